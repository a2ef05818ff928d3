//! Independent work spread over every core: files to parse, rules to run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Below this much input the whole lint takes a few milliseconds, less than starting
/// rayon's threads and letting them spin down costs in CPU time.
const SMALL_INPUT: usize = 256 * 1024;

/// Whether work on `bytes` of input is worth spreading over the cores.
pub fn worth_it(bytes: usize) -> bool {
    bytes >= SMALL_INPUT && multicore()
}

/// Whether there is more than one core to spread work over.
pub fn multicore() -> bool {
    cores() > 1
}

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    // Asked of the OS rather than of rayon, which would start its pool to answer.
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f(i)` for every index of `order` (distinct indices), on all cores when `spread` (else
/// on this thread), each thread taking the next index: costly items first keep the threads
/// busy to the end. Results come back sorted by index. A panic in `f` is passed
/// on to the caller.
pub fn map<R: Send>(order: &[usize], spread: bool, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = if spread { cores().min(order.len()) } else { 1 };
    if threads <= 1 {
        let mut done: Vec<(usize, R)> = order.iter().map(|&i| (i, f(i))).collect();
        done.sort_by_key(|(i, _)| *i);
        return done.into_iter().map(|(_, r)| r).collect();
    }
    let next = AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::with_capacity(order.len()));
    // On rayon's pool: its threads outlive one run, and so do their allocator heaps.
    rayon::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|_| {
                let mut mine = Vec::new();
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    mine.push((i, f(i)));
                }
                done.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_by_index_whatever_the_order() {
        for spread in [true, false] {
            let squares = super::map(&[3, 0, 2, 1], spread, |i| i * i);
            assert_eq!(squares, vec![0, 1, 4, 9]);
            assert!(super::map(&[], spread, |i| i).is_empty());
        }
    }
}
