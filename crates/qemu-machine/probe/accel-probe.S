/* A multiboot (v1, a.out kludge) kernel that enters 64-bit long mode with
   paging and prints a line on COM1: the CPU mode switches a Linux kernel
   makes early in boot, which is where broken nested KVM hangs. */
        .set BASE, 0x100000
        .code32
        .section .text
        .globl _start
header:
        .long 0x1BADB002
        .long 0x00010000
        .long -(0x1BADB002 + 0x00010000)
        .long BASE                      /* header_addr */
        .long BASE                      /* load_addr */
        .long BASE + (load_end - header)
        .long BASE + (bss_end - header)
        .long BASE + (_start - header)  /* entry */
_start:
        cli
        /* Page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] = 2 MiB page at 0. */
        mov $(BASE + (tables - header)), %edi
        mov %edi, %ebx
        xor %eax, %eax
        mov $(3 * 4096 / 4), %ecx
        rep stosl
        lea 0x1003(%ebx), %eax
        mov %eax, (%ebx)
        lea 0x2003(%ebx), %eax
        mov %eax, 0x1000(%ebx)
        movl $0x83, 0x2000(%ebx)
        mov %ebx, %cr3
        mov %cr4, %eax
        or $0x20, %eax                  /* PAE */
        mov %eax, %cr4
        mov $0xC0000080, %ecx           /* EFER */
        rdmsr
        or $0x100, %eax                 /* LME */
        wrmsr
        mov %cr0, %eax
        or $0x80000001, %eax            /* PG | PE */
        mov %eax, %cr0
        lgdt (BASE + (gdt_ptr - header))
        ljmp $0x08, $(BASE + (long_mode - header))
        .code64
long_mode:
        mov $0x3f8, %dx
        lea msg(%rip), %rsi
1:      lodsb
        test %al, %al
        jz 2f
        out %al, %dx
        jmp 1b
2:      hlt
        jmp 2b
        .align 8
gdt:
        .quad 0
        .quad 0x00209A0000000000        /* 64-bit code segment */
gdt_ptr:
        .word gdt_ptr - gdt - 1
        .long BASE + (gdt - header)
msg:
        .asciz "BAKE-ACCEL-OK\n"
load_end:
        .align 4096
tables:
        .skip 3 * 4096
bss_end:
