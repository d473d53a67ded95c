/*
 * tiny-microvm.S: the test guest for StratoVirt's microvm on x86_64.
 *
 * microvm loads a flat kernel image (objcopy -O binary) and enters it in
 * 64-bit long mode at its first byte, so this code is position
 * independent (RIP-relative).  It prints one line on COM1 (0x3f8) and
 * halts its vCPU for good.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
    .text
    .code64
    .globl _start
_start:
    cli
    lea banner(%rip), %rsi
    mov $0x3f8, %dx
1:  lodsb
    test %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  hlt
    jmp 2b

banner:
    .asciz "libvirt-stratovirt tiny guest (microvm): halted\r\n"
