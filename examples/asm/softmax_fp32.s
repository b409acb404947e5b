; Row softmax in fp32 on the teaching chip: y = exp(x - max x) / sum exp(x - max x)
; over the 8 lanes of one vector. The VXM has no divide: 1/s = rsqrt(s)^2.
; Reductions across lanes go through the east SXM: rotate by 4, 2, 1 and
; combine, so every lane ends up holding the max (then the sum).
;
;   pos  0      1      2   3   4   5    6    7   8   9   10    11     12
;        MXM.W  SXM.W  W3  W2  W1  W0  VXM   E0  E1  E2  E3   SXM.E  MXM.E
; Latencies: mem_read 2, mem_write 2, vxm_alu 1, vxm_special 3 (exp, rsqrt),
; sxm_shift 2 (rot), notify 1, stream hop 1. VXM <-> SXM.E is 5 hops.
;
; One reduction step: SXM.E.0 rotates v by k and SXM.E.1 rotates it by 0 (the
; same delay, so both copies come back together) at cycle t; they are at the
; VXM at t + 2 + 5 = t + 7; the VXM combines them at t + 7 and the result is
; back at SXM.E at t + 7 + 1 + 5 = t + 13.
;
;  3-b   W(b) reads x plane b onto s(b)e; at the VXM at (3-b) + 2 + (1+b) = 6,
;        and flows on: at SXM.E at 6 + 5 = 11
;  11    rot 4 / rot 0          18  max -> at SXM.E at 24
;  24    rot 2 / rot 0          31  max -> at SXM.E at 37
;  37    rot 1 / rot 0          44  max: m (every lane) on s4e at 45
;  42-b  W(b) reads x again: at the VXM at 45
;  45    d = x - m                               (on s0w at 46)
;  46    VXM.0: e = exp d -> s4e (to the SXM)    VXM.1: the same -> s4w (to MEM)
;  50+b  W(b) stores e plane b (address 2), committed by 52 + b
;  54    rot 4 / rot 0          61  add -> at SXM.E at 67
;  67    rot 2 / rot 0          74  add -> at SXM.E at 80
;  80    rot 1 / rot 0          87  add: s = sum e (every lane), at 88
;  88    r = rsqrt s (at 91)    91  r2 = r * r (at 92)
;  89-b  W(b) reads e back: at the VXM at 92
;  92    y = e * r2 on s0w..s3w at 93; plane b reaches W(b) at 94 + b
;  97    the last write (W3) commits at 97 + 2 = 99 cycles.

.chip teaching
.tensor x f32 [1, 8] at W0 0
.tensor y f32 [1, 8] at W0 1
.tensor e f32 [1, 8] at W0 2
.values x 1.0 -2.5 0.25 3.0 -1.0 2.0 0.5 -0.75
.output y

.queue VXM.0
    notify
    sync
    @18 max.f32 s4e, s0w, s4w       ; v = max(rot(x,4), x)
    @31 max.f32 s4e, s0w, s4w
    @44 max.f32 s4e, s0w, s4w       ; m
    @45 sub.f32 s0w, s0e, s4e       ; d = x - m
    @46 exp.f32 s4e, s0w            ; e, eastward to the SXM
    @61 add.f32 s4e, s0w, s4w       ; partial sums
    @74 add.f32 s4e, s0w, s4w
    @87 add.f32 s4e, s0w, s4w       ; s
    @88 rsqrt.f32 s0w, s4e          ; r = 1/sqrt(s)
    @91 mul.f32 s4w, s0w, s0w       ; r2 = 1/s
    @92 mul.f32 s0w, s0e, s4w       ; y = e / s

.queue VXM.1
    sync
    @46 exp.f32 s4w, s0w            ; e, westward to MEM

.queue SXM.E.0
    sync
    @11 rot.f32 s0w, s0e, 4
    @24 rot.f32 s0w, s4e, 2
    @37 rot.f32 s0w, s4e, 1
    @54 rot.f32 s0w, s4e, 4
    @67 rot.f32 s0w, s4e, 2
    @80 rot.f32 s0w, s4e, 1
.queue SXM.E.1
    sync
    @11 rot.f32 s4w, s0e, 0         ; the unrotated copy, delay-matched
    @24 rot.f32 s4w, s4e, 0
    @37 rot.f32 s4w, s4e, 0
    @54 rot.f32 s4w, s4e, 0
    @67 rot.f32 s4w, s4e, 0
    @80 rot.f32 s4w, s4e, 0

.queue MEM.W0
    sync
    @3 read x[0], s0e
    @42 read x[0], s0e
    @50 write e[0], s4w
    @89 read e[0], s0e
    @94 write y[0], s0w
.queue MEM.W1
    sync
    @2 read x[0], s1e
    @41 read x[0], s1e
    @51 write e[0], s5w
    @88 read e[0], s1e
    @95 write y[0], s1w
.queue MEM.W2
    sync
    @1 read x[0], s2e
    @40 read x[0], s2e
    @52 write e[0], s6w
    @87 read e[0], s2e
    @96 write y[0], s2w
.queue MEM.W3
    sync
    @0 read x[0], s3e
    @39 read x[0], s3e
    @53 write e[0], s7w
    @86 read e[0], s3e
    @97 write y[0], s3w
