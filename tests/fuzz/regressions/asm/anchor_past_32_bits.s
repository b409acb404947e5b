.queue VXM.0
  @4294967300 mov.f32 s0e, s1e
