#!/bin/sh
# mkbzimage.sh FLAT.bin OUT — wrap flat 32-bit code (linked at 0x100000) in a
# minimal bzImage: one setup sector after the boot sector, a setup header
# (Documentation/arch/x86/boot.rst) saying boot protocol 2.15, LOADED_HIGH.
set -e
in=$1 out=$2
hdr() { printf "$2" | dd of="$out" bs=1 seek=$(($1)) conv=notrunc status=none; }
dd if=/dev/zero of="$out" bs=1024 count=1 status=none
hdr 0x1f1 '\001'                 # setup_sects: 1 (+ the boot sector = 1024 bytes)
hdr 0x1fe '\125\252'             # boot_flag 0xAA55
hdr 0x200 '\353\076'             # jump; header ends at 0x202 + 0x3e
hdr 0x202 'HdrS'                 # header magic
hdr 0x206 '\017\002'             # version 2.15
hdr 0x211 '\001'                 # loadflags: LOADED_HIGH
hdr 0x214 '\000\000\020\000'     # code32_start 0x100000
hdr 0x22c '\377\377\377\177'     # initrd_addr_max
hdr 0x238 '\377\007\000\000'     # cmdline_size 2047
cat "$in" >> "$out"
truncate -s 8192 "$out"   # the loader wants at least 4 KiB
