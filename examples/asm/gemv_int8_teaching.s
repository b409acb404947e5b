; int8 GEMV on the teaching chip's west MXM plane, small enough to follow by
; hand: y[1x8] = x[1x8] . W[8x8], int8 x int8 accumulated in int32.
;
;   pos  0      1      2   3   4   5    6    7   8   9   10    11     12
;        MXM.W  SXM.W  W3  W2  W1  W0  VXM   E0  E1  E2  E3   SXM.E  MXM.E
; Latencies: mem_read 2, mem_write 2, mxm_load 1, mxm_install 1, mxm_pass 4,
; mxm_acc 1, notify 1. An LW reads 4 streams (4 weight rows) per cycle.
;
; W is spread over W0..W3: row r in slice W(r % 4) at address r/4.
;   Slice Wi (pos 5-i) reads addresses 0 and 1 at cycles i and i+1 onto s(i)w;
;   a read at c reaches MXM.W at c + 2 + (5 - i), so rows arrive in groups:
;   rows 0..3 at cycle 7, rows 4..7 at cycle 8.
;   lw at 7 and 8; the last rows are in the buffer at 8 + 1 = 9; iw at 9;
;   the weights are in the array at 9 + 1 = 10.
; x sits in E0 (pos 7): read at 1 onto s4w, it reaches MXM.W at 1 + 2 + 7 = 10.
;   abc at 10: accumulator 0 holds x . W at 10 + 4 = 14.
; acc at 14: y (int32, 4 byte planes) is on s0e..s3e at 14 + 1 = 15 at pos 0.
;   y's plane b lives in slice Wb (pos 5-b): it arrives at 15 + 5 - b = 20 - b,
;   is written then, and commits 2 cycles later: the last commit (W0) is at
;   20 + 2 = 22 cycles from the start barrier.
; Each read names its producer, !from STREAM=QUEUE@CYCLE (isa/README.md): the
; value the reader takes from STREAM must be the one that issue wrote. A MEM
; read's word comes from the data section here: !from word=data.

.chip teaching
.tensor W int8 [8, 8] at W0 0 spread 4
.tensor x int8 [1, 8] at E0 0
.tensor y int32 [1, 8] at W0 2
.values W  1  2  3  4  5  6  7  8
.values W -1 -2 -3 -4 -5 -6 -7 -8
.values W  0  1  0  1  0  1  0  1
.values W  2  2  2  2  2  2  2  2
.values W  3 -3  3 -3  3 -3  3 -3
.values W 10 20 30 40 50 60 70 80
.values W  0  0  0  0  0  0  0  1
.values W -128 127 -128 127 -128 127 -128 127
.values x  1  2  3  4  5  6  7  8
.output y

.queue MXM.W0.0
    notify
    sync
    ; rows 0..3 from s0w..s3w, read by W0..W3 at 0..3
    @7 lw.i8 s0w, 4, 0 !from s0w=MEM.W0@0 !from s1w=MEM.W1@1 !from s2w=MEM.W2@2 !from s3w=MEM.W3@3
    ; rows 4..7, one cycle later
    repeat 1, 1, 4 !from.1 s0w=MEM.W0@1 !from.1 s1w=MEM.W1@2 !from.1 s2w=MEM.W2@3 !from.1 s3w=MEM.W3@4
    @9 iw 8                                 ; install all 8 rows
    @10 abc.i8 s4w, 0 !from s4w=MEM.E0@1    ; acc0 = x . W
    @14 acc.i32 s0e, 0                      ; y onto s0e..s3e

.queue MEM.W0
    sync
    @0 read W[0], s0w !from word=data    ; rows 0, 4: the data section's
    repeat 1, 1, 1 !from.1 word=data
    @20 write y[0], s0e !from s0e=MXM.W0.0@14   ; byte plane 0 of y
.queue MEM.W1
    sync
    @1 read W[1], s1w !from word=data    ; rows 1, 5: the data section's
    repeat 1, 1, 1 !from.1 word=data
    @19 write y[0], s1e !from s1e=MXM.W0.0@14
.queue MEM.W2
    sync
    @2 read W[2], s2w !from word=data    ; rows 2, 6: the data section's
    repeat 1, 1, 1 !from.1 word=data
    @18 write y[0], s2e !from s2e=MXM.W0.0@14
.queue MEM.W3
    sync
    @3 read W[3], s3w !from word=data    ; rows 3, 7: the data section's
    repeat 1, 1, 1 !from.1 word=data
    @17 write y[0], s3e !from s3e=MXM.W0.0@14

.queue MEM.E0
    sync
    @1 read x[0], s4w !from word=data
