.tensor x i8 [1, 2] at W0 0
.file x "/dev/zero"
