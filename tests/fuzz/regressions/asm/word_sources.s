; Word sources (a seed for the fuzzer, kept as a regression input): a read's
; MEM word from the data section and from a write, on an instruction line and
; on its repeat line, by cycle, label and index.
.chip teaching
.queue MEM.W0
    notify
    sync
    @0 read 0, s0e !from word=data
    repeat 1, 1, 1 !from.1 word=data
    w: @2 write 0, s4w
    @5 read 0, s1e !from word=MEM.W0@2
    repeat 1, 1, 0 !from.1 word=w
    read 0, s2e !from word=MEM.W0#4
.queue MEM.E0
    sync
    @0 read 3, s4w !from word=data
