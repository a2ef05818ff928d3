//! The global allocator: mimalloc, called the way its plain `malloc` path is fastest.
//!
//! The `mimalloc` crate sends every allocation to `mi_malloc_aligned`. In mimalloc 3 that
//! only stays on the fast path while the size's page has a free block; once it fills, any
//! size whose block is not a power of two (the 80-byte PHP-FPM entry, the 40-byte nginx
//! word) goes to the over-allocating generic path and lands in the next larger size class
//! (mimalloc_rust pull request #170 proposes the same dispatch). Plain `mi_malloc` already
//! returns 16-byte aligned blocks for any size of 16 or more and 8-byte aligned ones below
//! (`MI_MAX_ALIGN_SIZE`; bins are multiples of two words on 64-bit targets), so a layout
//! whose alignment is at most that takes it, as std's `System` allocator does with malloc.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every `mi_malloc` block of at least this many bytes has.
const PLAIN_ALIGN: usize = 16;

pub struct Allocator;

/// Plain `mi_malloc` satisfies the layout: no more alignment than a block of its size has.
fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every path hands the layout to mimalloc, with the alignment either guaranteed by
// `plain` or requested explicitly, and frees with `mi_free`, which takes both kinds.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc returns null or a block of at least `layout.size()` bytes.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`, zeroed.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator; the new block keeps `layout.align()`.
        unsafe {
            if plain(layout.align(), new_size) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guarantee `plain` relies on, checked on this build of mimalloc: blocks of every
    /// small and medium size, many per size so that pages fill and new ones start.
    #[test]
    fn plain_blocks_have_the_alignment_rust_asks_for() {
        let a = Allocator;
        for size in 1..=1024usize {
            for align in [1usize, 2, 4, 8, 16] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let mut blocks = Vec::new();
                for _ in 0..64 {
                    // SAFETY: non-zero size; freed below with the same layout.
                    let p = unsafe { a.alloc(layout) };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    blocks.push(p);
                }
                // SAFETY: each block came from `alloc` with this layout.
                blocks.into_iter().for_each(|p| unsafe { a.dealloc(p, layout) });
            }
        }
    }

    #[test]
    fn realloc_keeps_bytes_and_alignment() {
        let a = Allocator;
        for align in [8usize, 16, 64, 4096] {
            let layout = Layout::from_size_align(24, align).unwrap();
            // SAFETY: non-zero size; every pointer is the latest one the allocator gave.
            unsafe {
                let mut p = a.alloc_zeroed(layout);
                assert!((0..24).all(|i| *p.add(i) == 0));
                p.write_bytes(7, 24);
                let mut old = layout;
                for size in [100, 5000, 40, 3_000_000] {
                    p = a.realloc(p, old, size);
                    assert_eq!(p as usize % align, 0, "align {align} size {size}");
                    assert!((0..24).all(|i| *p.add(i) == 7));
                    old = Layout::from_size_align(size, align).unwrap();
                }
                a.dealloc(p, old);
            }
        }
    }
}
