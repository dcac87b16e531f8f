/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entry of the tiny test guest. The monitor enters at _start in 64-bit mode with
 * identity paging and %rsi = boot_params (Linux boot.rst "64-bit Boot Protocol").
 * tramp_* is a real-mode stub the guest copies to 0x8000 for its application
 * processors (started with INIT-SIPI-SIPI, vector 0x08): each AP counts itself
 * and halts. No int3, xsave or cmpxchg16b anywhere.
 */
    .section .text.start, "ax"
    .globl _start
    .code64
_start:
    lea stack_top(%rip), %rsp
    mov %rsi, %rdi
    call guest_main
1:  hlt
    jmp 1b

    .section .rodata
    .globl tramp_start, tramp_end, tramp_counter
    .code16
tramp_start:
    cli
    mov %cs, %ax
    mov %ax, %ds
    lock incl (tramp_counter - tramp_start)
2:  hlt
    jmp 2b
    .balign 4
tramp_counter:
    .long 0
tramp_end:
    .code64

    .section .bss
    .balign 16
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
