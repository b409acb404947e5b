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
; Each read names its producer (isa/README.md): !from STREAM=QUEUE@CYCLE for a
; stream plane, !from word=data for a MEM word the data section holds.

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
    ; x on s0e..s3e, y on s0w..s3w, z onto s4w..s7w
    @6 add.f32 s4w, s0e, s0w !from s0e=MEM.W0@3 !from s1e=MEM.W1@2 !from s2e=MEM.W2@1 !from s3e=MEM.W3@0 !from s0w=MEM.E0@3 !from s1w=MEM.E1@2 !from s2w=MEM.E2@1 !from s3w=MEM.E3@0

.queue MEM.W3
    sync
    @0 read x[0], s3e !from word=data
    @11 write z[0], s7w !from s7w=VXM.0@6
.queue MEM.W2
    sync
    @1 read x[0], s2e !from word=data
    @10 write z[0], s6w !from s6w=VXM.0@6
.queue MEM.W1
    sync
    @2 read x[0], s1e !from word=data
    @9 write z[0], s5w !from s5w=VXM.0@6
.queue MEM.W0
    sync
    @3 read x[0], s0e !from word=data
    @8 write z[0], s4w !from s4w=VXM.0@6

.queue MEM.E3
    sync
    @0 read y[0], s3w !from word=data
.queue MEM.E2
    sync
    @1 read y[0], s2w !from word=data
.queue MEM.E1
    sync
    @2 read y[0], s1w !from word=data
.queue MEM.E0
    sync
    @3 read y[0], s0w !from word=data
