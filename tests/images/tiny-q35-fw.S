/*
 * tiny-q35-fw.S: the test firmware for StratoVirt's standard x86 machine
 * (q35), used where a domain's <loader> names OVMF_CODE.fd.
 *
 * The q35 machine always starts in its firmware: the first pflash unit is
 * mapped just below 4 GiB and the vCPU starts at the reset vector
 * (F000:FFF0, 16 bytes below 4 GiB) in real mode; -kernel is only handed
 * to that firmware through fw_cfg.  So on a real StratoVirt the tiny
 * kernel (tiny-q35.S) never runs, and this is the guest code that does.
 * It prints one line on COM1 (0x3f8) and halts its vCPU for good.
 *
 * The image is 1 MiB (StratoVirt refuses a 64 KiB pflash); its last
 * 64 KiB are the real-mode segment at F000 (base 0xffff0000).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
    .code16
    .text
    .fill 0xf0000, 1, 0
seg:
_start:
    cli
    mov $0x3f8, %dx
    mov $(banner - seg), %si
1:  cs lodsb
    test %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  hlt
    jmp 2b

banner:
    .asciz "libvirt-stratovirt tiny firmware (q35): halted\r\n"

    /* the reset vector: 16 bytes below 4 GiB */
    .org 0xffff0
    jmp _start
    .org 0x100000
