/* boot_defs.h — constants shared by boot.S and C (no C declarations here). */
#ifndef VFS_BM_BOOT_DEFS_H
#define VFS_BM_BOOT_DEFS_H

#define BOOT_PROTO_PVH 1 /* Xen PVH start info (QEMU -kernel) */
#define BOOT_PROTO_MB2 2 /* multiboot2 (GRUB) — reserved, not built yet */

/* Selectors into boot_gdt. */
#define BOOT_CS64 0x08
#define BOOT_DS 0x10
#define BOOT_CS32 0x18

#define BOOT_STACK_SIZE (64 * 1024)

#endif
