; Stream sources in every reference form (a seed for the fuzzer, kept as a
; regression input): QUEUE@CYCLE, QUEUE#INDEX.K, LABEL, LABEL.K, on an
; instruction line and on its repeat line, with producers in later queues.
.chip teaching
.queue VXM.0
    notify
    sync
    @4 add.i32 s8w, s0e, s4w !from s0e=MEM.W0@1 !from s1e=lab !from s4w=MEM.E0@2 !from.1 s2e=MEM.W0#6.1
    repeat 1, 1 !from.1 s0e=MEM.W0@2 !from.1 s1e=lab.1
.queue MEM.W0
    sync
    @1 read 0, s0e
    repeat 1, 1, 1
    lab: read 0, s1e
    repeat 1, 1, 0
    read 0, s2e
    repeat 1, 1, 0
.queue MEM.E0
    sync
    x0: @2 read 0, s4w
