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
    xor %esi, %esi
    call guest_main
1:  hlt
    jmp 1b

/*
 * PVH entry (xen/include/public/arch-x86/hvm/start_info.h): 32-bit flat protected
 * mode, paging off, %ebx = hvm_start_info. Build an identity map of 4 GiB with
 * 2 MiB pages, enter long mode, then run the same guest_main. QEMU's microvm
 * boots this entry too (for the side-by-side benchmark).
 */
    .code32
pvh_start:
    cli
    mov %ebx, pvh_info
    mov $pd_tables, %edi
    mov $0x83, %eax
    mov $2048, %ecx
2:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 2b
    mov $pdpt, %edi
    mov $pd_tables + 3, %eax
    mov $4, %ecx
3:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $4096, %eax
    add $8, %edi
    loop 3b
    movl $pdpt + 3, pml4
    movl $0, pml4 + 4
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax
    mov %eax, %cr0
    lgdt gdt64_desc
    ljmp $0x08, $pvh_long
    .code64
pvh_long:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    lea stack_top(%rip), %rsp
    xor %edi, %edi
    mov pvh_info(%rip), %esi
    call guest_main
4:  hlt
    jmp 4b

    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18 /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start

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

    .balign 8
gdt64:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
gdt64_desc:
    .word 23
    .long gdt64

    .section .bss
    .balign 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd_tables:
    .skip 4 * 4096
pvh_info:
    .skip 8
    .balign 16
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
