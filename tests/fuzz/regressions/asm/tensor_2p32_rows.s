.chip teaching
.tensor x i8 [4294967295, 8] at W0 0
.queue VXM.0
  nop 1
