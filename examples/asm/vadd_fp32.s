; Vector add in fp32 on the teaching chip: z = x + y, MEM -> VXM -> MEM.
;
; The teaching chip, west to east (one column per slice position):
;   pos  0      1      2   3   4   5    6    7   8   9   10    11     12
;        MXM.W  SXM.W  W3  W2  W1  W0  VXM   E0  E1  E2  E3   SXM.E  MXM.E
; Latencies (cycles): stream hop 1, mem_read 2, mem_write 2, vxm_alu 1, notify 1.
;
; An fp32 value is 4 bytes: its 4 byte planes live in 4 slices (x in W0..W3,
; y in E0..E3) and travel on 4 consecutive streams. All 4 planes must reach
; the VXM in the same cycle, so the slices farther away read earlier:
;   x plane b: slice W_b (pos 5-b) reads at cycle 3-b, the vector is on s_b-east
;              at cycle 5-b, then hops 1+b slices:   (3-b) + 2 + (1+b) = 6
;   y plane b: slice E_b (pos 7+b) reads at cycle 3-b onto s_b-west: same sum = 6
; VXM.0 adds at cycle 6; the sum is on s4w..s7w at cycle 7 (vxm_alu 1).
;   z plane b: slice W_b (pos 5-b) writes at cycle 7 + (1+b) = 8+b.
; The last write (W3, cycle 11) commits at 11 + 2 = 13: the program takes 13 cycles.

.chip teaching
.tensor x f32 [1, 8] at W0 0
.tensor y f32 [1, 8] at E0 0
.tensor z f32 [1, 8] at W0 1
.random x 1 -4 4
.random y 2 -4 4
.output z

.queue VXM.0
    notify                      ; the start barrier: releases every queue 1 cycle later
    sync
    @6 add.f32 s4w, s0e, s0w    ; x on s0e..s3e, y on s0w..s3w, z onto s4w..s7w

.queue MEM.W3
    sync
    @0 read x[0], s3e
    @11 write z[0], s7w
.queue MEM.W2
    sync
    @1 read x[0], s2e
    @10 write z[0], s6w
.queue MEM.W1
    sync
    @2 read x[0], s1e
    @9 write z[0], s5w
.queue MEM.W0
    sync
    @3 read x[0], s0e
    @8 write z[0], s4w

.queue MEM.E3
    sync
    @0 read y[0], s3w
.queue MEM.E2
    sync
    @1 read y[0], s2w
.queue MEM.E1
    sync
    @2 read y[0], s1w
.queue MEM.E0
    sync
    @3 read y[0], s0w
