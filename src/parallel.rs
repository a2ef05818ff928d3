//! Independent work spread over every core: files to parse, rules to run.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(i)` for every index of `order` (a permutation of `0..order.len()`), on all cores,
/// each thread taking the next index: costly items first keep the threads busy to the end.
/// Results come back by index. A panic in `f` is passed on to the caller.
pub fn map<R: Send>(order: &[usize], f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = rayon::current_num_threads().min(order.len());
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
        let squares = super::map(&[3, 0, 2, 1], |i| i * i);
        assert_eq!(squares, vec![0, 1, 4, 9]);
        assert!(super::map(&[], |i| i).is_empty());
    }
}
