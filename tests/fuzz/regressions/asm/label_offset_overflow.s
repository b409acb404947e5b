.queue VXM.0
  a: nop 1
  @a+9223372036854775807 nop 1
