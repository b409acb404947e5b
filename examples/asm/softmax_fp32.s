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
;
; Each read names its producer (isa/README.md): !from STREAM=QUEUE@CYCLE for a
; stream plane (one per byte plane), !from word=REF for a MEM word: data (the
; data section) for x, the write of e at 50+b for e.

.chip teaching
.tensor x f32 [1, 8] at W0 0
.tensor y f32 [1, 8] at W0 1
.tensor e f32 [1, 8] at W0 2
.values x 1.0 -2.5 0.25 3.0 -1.0 2.0 0.5 -0.75
.output y

.queue VXM.0
    notify
    sync
    ; v = max(rot(x,4), x)
    @18 max.f32 s4e, s0w, s4w !from s0w=SXM.E.0@11 !from s1w=SXM.E.0@11 !from s2w=SXM.E.0@11 !from s3w=SXM.E.0@11 !from s4w=SXM.E.1@11 !from s5w=SXM.E.1@11 !from s6w=SXM.E.1@11 !from s7w=SXM.E.1@11
    @31 max.f32 s4e, s0w, s4w !from s0w=SXM.E.0@24 !from s1w=SXM.E.0@24 !from s2w=SXM.E.0@24 !from s3w=SXM.E.0@24 !from s4w=SXM.E.1@24 !from s5w=SXM.E.1@24 !from s6w=SXM.E.1@24 !from s7w=SXM.E.1@24
    ; m
    @44 max.f32 s4e, s0w, s4w !from s0w=SXM.E.0@37 !from s1w=SXM.E.0@37 !from s2w=SXM.E.0@37 !from s3w=SXM.E.0@37 !from s4w=SXM.E.1@37 !from s5w=SXM.E.1@37 !from s6w=SXM.E.1@37 !from s7w=SXM.E.1@37
    ; d = x - m
    @45 sub.f32 s0w, s0e, s4e !from s0e=MEM.W0@42 !from s1e=MEM.W1@41 !from s2e=MEM.W2@40 !from s3e=MEM.W3@39 !from s4e=VXM.0@44 !from s5e=VXM.0@44 !from s6e=VXM.0@44 !from s7e=VXM.0@44
    ; e, eastward to the SXM
    @46 exp.f32 s4e, s0w !from s0w=VXM.0@45 !from s1w=VXM.0@45 !from s2w=VXM.0@45 !from s3w=VXM.0@45
    ; partial sums
    @61 add.f32 s4e, s0w, s4w !from s0w=SXM.E.0@54 !from s1w=SXM.E.0@54 !from s2w=SXM.E.0@54 !from s3w=SXM.E.0@54 !from s4w=SXM.E.1@54 !from s5w=SXM.E.1@54 !from s6w=SXM.E.1@54 !from s7w=SXM.E.1@54
    @74 add.f32 s4e, s0w, s4w !from s0w=SXM.E.0@67 !from s1w=SXM.E.0@67 !from s2w=SXM.E.0@67 !from s3w=SXM.E.0@67 !from s4w=SXM.E.1@67 !from s5w=SXM.E.1@67 !from s6w=SXM.E.1@67 !from s7w=SXM.E.1@67
    ; s
    @87 add.f32 s4e, s0w, s4w !from s0w=SXM.E.0@80 !from s1w=SXM.E.0@80 !from s2w=SXM.E.0@80 !from s3w=SXM.E.0@80 !from s4w=SXM.E.1@80 !from s5w=SXM.E.1@80 !from s6w=SXM.E.1@80 !from s7w=SXM.E.1@80
    ; r = 1/sqrt(s)
    @88 rsqrt.f32 s0w, s4e !from s4e=VXM.0@87 !from s5e=VXM.0@87 !from s6e=VXM.0@87 !from s7e=VXM.0@87
    ; r2 = 1/s
    @91 mul.f32 s4w, s0w, s0w !from s0w=VXM.0@88 !from s1w=VXM.0@88 !from s2w=VXM.0@88 !from s3w=VXM.0@88
    ; y = e / s
    @92 mul.f32 s0w, s0e, s4w !from s0e=MEM.W0@89 !from s1e=MEM.W1@88 !from s2e=MEM.W2@87 !from s3e=MEM.W3@86 !from s4w=VXM.0@91 !from s5w=VXM.0@91 !from s6w=VXM.0@91 !from s7w=VXM.0@91

.queue VXM.1
    sync
    ; e, westward to MEM
    @46 exp.f32 s4w, s0w !from s0w=VXM.0@45 !from s1w=VXM.0@45 !from s2w=VXM.0@45 !from s3w=VXM.0@45

.queue SXM.E.0
    sync
    @11 rot.f32 s0w, s0e, 4 !from s0e=MEM.W0@3 !from s1e=MEM.W1@2 !from s2e=MEM.W2@1 !from s3e=MEM.W3@0
    @24 rot.f32 s0w, s4e, 2 !from s4e=VXM.0@18 !from s5e=VXM.0@18 !from s6e=VXM.0@18 !from s7e=VXM.0@18
    @37 rot.f32 s0w, s4e, 1 !from s4e=VXM.0@31 !from s5e=VXM.0@31 !from s6e=VXM.0@31 !from s7e=VXM.0@31
    @54 rot.f32 s0w, s4e, 4 !from s4e=VXM.0@46 !from s5e=VXM.0@46 !from s6e=VXM.0@46 !from s7e=VXM.0@46
    @67 rot.f32 s0w, s4e, 2 !from s4e=VXM.0@61 !from s5e=VXM.0@61 !from s6e=VXM.0@61 !from s7e=VXM.0@61
    @80 rot.f32 s0w, s4e, 1 !from s4e=VXM.0@74 !from s5e=VXM.0@74 !from s6e=VXM.0@74 !from s7e=VXM.0@74
.queue SXM.E.1
    sync
    ; the unrotated copy, delay-matched
    @11 rot.f32 s4w, s0e, 0 !from s0e=MEM.W0@3 !from s1e=MEM.W1@2 !from s2e=MEM.W2@1 !from s3e=MEM.W3@0
    @24 rot.f32 s4w, s4e, 0 !from s4e=VXM.0@18 !from s5e=VXM.0@18 !from s6e=VXM.0@18 !from s7e=VXM.0@18
    @37 rot.f32 s4w, s4e, 0 !from s4e=VXM.0@31 !from s5e=VXM.0@31 !from s6e=VXM.0@31 !from s7e=VXM.0@31
    @54 rot.f32 s4w, s4e, 0 !from s4e=VXM.0@46 !from s5e=VXM.0@46 !from s6e=VXM.0@46 !from s7e=VXM.0@46
    @67 rot.f32 s4w, s4e, 0 !from s4e=VXM.0@61 !from s5e=VXM.0@61 !from s6e=VXM.0@61 !from s7e=VXM.0@61
    @80 rot.f32 s4w, s4e, 0 !from s4e=VXM.0@74 !from s5e=VXM.0@74 !from s6e=VXM.0@74 !from s7e=VXM.0@74

.queue MEM.W0
    sync
    @3 read x[0], s0e !from word=data
    @42 read x[0], s0e !from word=data
    @50 write e[0], s4w !from s4w=VXM.1@46
    @89 read e[0], s0e !from word=MEM.W0@50
    @94 write y[0], s0w !from s0w=VXM.0@92
.queue MEM.W1
    sync
    @2 read x[0], s1e !from word=data
    @41 read x[0], s1e !from word=data
    @51 write e[0], s5w !from s5w=VXM.1@46
    @88 read e[0], s1e !from word=MEM.W1@51
    @95 write y[0], s1w !from s1w=VXM.0@92
.queue MEM.W2
    sync
    @1 read x[0], s2e !from word=data
    @40 read x[0], s2e !from word=data
    @52 write e[0], s6w !from s6w=VXM.1@46
    @87 read e[0], s2e !from word=MEM.W2@52
    @96 write y[0], s2w !from s2w=VXM.0@92
.queue MEM.W3
    sync
    @0 read x[0], s3e !from word=data
    @39 read x[0], s3e !from word=data
    @53 write e[0], s7w !from s7w=VXM.1@46
    @86 read e[0], s3e !from word=MEM.W3@53
    @97 write y[0], s3w !from s3w=VXM.0@92
