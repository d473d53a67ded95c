/*
 * tiny-q35.S: the test guest for StratoVirt's standard x86 machine (q35).
 *
 * StratoVirt boots an ELF kernel on q35 through its PVH entry: the ELF
 * note XEN_ELFNOTE_PHYS32_ENTRY (type 0x12, name "Xen") gives the 32-bit
 * protected-mode address it jumps to.  This guest prints one line on the
 * first serial port (COM1, I/O port 0x3f8) and halts its vCPU for good,
 * so it costs the host no CPU time.  Linked at 1 MiB by tiny-q35.ld.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
    .section .note.pvh, "a"
    .p2align 2
    .long 4                 /* namesz: "Xen" and its NUL */
    .long 8                 /* descsz: StratoVirt reads 8 bytes */
    .long 0x12              /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .p2align 2
    .quad _start

    .text
    .code32
    .globl _start
_start:
    cli
    mov $banner, %esi
    mov $0x3f8, %dx
1:  lodsb
    test %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  hlt
    jmp 2b

banner:
    .asciz "libvirt-stratovirt tiny guest (q35): halted\r\n"
