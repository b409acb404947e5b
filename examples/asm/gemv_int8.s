; int8 GEMV on one MXM plane of groq-tsp-v1: y[1x320] = x[1x320] . W[320x320],
; int8 x int8 accumulated in int32, on the west MXM plane 0 (MXM.W0).
;
; groq-tsp-v1, west half (position = column, one stream hop per cycle):
;   MXM.W 0 | SXM.W 1 | MEM.W43 2 ... MEM.Wi (45-i) ... MEM.W0 45 | VXM 46
; Latencies: mem_read 4, mem_write 4, mxm_load 1, mxm_install 4, mxm_pass 28,
; mxm_acc 4, icu_notify 4 (chips --fields).
;
; Weights: W is spread over 16 slices, row r in slice W(r % 16) at address r/16,
; so each of W0..W15 holds 20 rows. An LW reads 16 streams in one cycle, one
; weight row each: 20 LWs fill the 320 rows of the plane.
;   Slice Wi reads its 20 rows on stream s(i)w at cycles i .. i+19; a value
;   read at cycle c reaches MXM.W at c + 4 (mem_read) + (45 - i) hops = c + 49 - i,
;   so all 16 streams of a group arrive together, at cycle 49 + k for group k.
;   LW k at cycle 49 + k loads rows 16k .. 16k+15            (k = 0 .. 19)
;   the last LW (68) has its rows in the buffer at 68 + 1 = 69
;   IW 320 at 69: the weights are in the array at 69 + 4 = 73.
; Activation: x in slice W16 (position 29) is read at 40 onto s16w and
;   reaches MXM.W at 40 + 4 + 29 = 73, where ABC multiplies it: the int32
;   result is in accumulator 0 at 73 + 28 = 101.
; ACC at 101 puts y (int32 = 4 byte planes) on s0e..s3e at 101 + 4 = 105.
;   y's planes live in W17..W20 (positions 28..25); plane b reaches W(17+b)
;   at 105 + (28 - b) = 133 - b, is written then and commits 4 cycles later.
; The last commit is W17's: 133 + 4 = 137 cycles from the start barrier.

.chip groq-tsp-v1
.tensor W int8 [320, 320] at W0 0 spread 16
.tensor x int8 [1, 320] at W16 0
.tensor y int32 [1, 320] at W17 0
.random W 11 -128 128
.random x 12 -128 128
.output y

.queue MXM.W0.0
    notify                          ; releases the barrier 4 cycles later
    sync
    @49 lw.i8 s0w, 16, 0            ; rows 0..15 from s0w..s15w
    repeat 19, 1, 16                ; 19 more, one per cycle, rows +16 each
    @69 iw 320
    @73 abc.i8 s16w, 0              ; acc0 = x . W
    @101 acc.i32 s0e, 0             ; y onto s0e..s3e
.queue MEM.W0
    sync
    @0 read W[0], s0w          ; rows 0, 16, ... 304
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W1
    sync
    @1 read W[1], s1w          ; rows 1, 17, ... 305
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W2
    sync
    @2 read W[2], s2w          ; rows 2, 18, ... 306
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W3
    sync
    @3 read W[3], s3w          ; rows 3, 19, ... 307
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W4
    sync
    @4 read W[4], s4w          ; rows 4, 20, ... 308
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W5
    sync
    @5 read W[5], s5w          ; rows 5, 21, ... 309
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W6
    sync
    @6 read W[6], s6w          ; rows 6, 22, ... 310
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W7
    sync
    @7 read W[7], s7w          ; rows 7, 23, ... 311
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W8
    sync
    @8 read W[8], s8w          ; rows 8, 24, ... 312
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W9
    sync
    @9 read W[9], s9w          ; rows 9, 25, ... 313
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W10
    sync
    @10 read W[10], s10w         ; rows 10, 26, ... 314
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W11
    sync
    @11 read W[11], s11w         ; rows 11, 27, ... 315
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W12
    sync
    @12 read W[12], s12w         ; rows 12, 28, ... 316
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W13
    sync
    @13 read W[13], s13w         ; rows 13, 29, ... 317
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W14
    sync
    @14 read W[14], s14w         ; rows 14, 30, ... 318
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W15
    sync
    @15 read W[15], s15w         ; rows 15, 31, ... 319
    repeat 19, 1, 1                 ; addresses 0..19
.queue MEM.W16
    sync
    @40 read x[0], s16w
.queue MEM.W17
    sync
    @133 write y[0], s0e              ; byte plane 0 of y
.queue MEM.W18
    sync
    @132 write y[0], s1e              ; byte plane 1 of y
.queue MEM.W19
    sync
    @131 write y[0], s2e              ; byte plane 2 of y
.queue MEM.W20
    sync
    @130 write y[0], s3e              ; byte plane 3 of y
