//! Independent work spread over every core: files to parse, rules to run.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(i)` for every index of `order` (a permutation of `0..order.len()`), on all cores,
/// each thread taking the next index: costly items first keep the threads busy to the end.
/// Results come back by index. A panic in `f` is passed on to the caller.
pub fn map<R: Send>(order: &[usize], f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(order.len());
    if threads <= 1 {
        let mut done: Vec<(usize, R)> = order.iter().map(|&i| (i, f(i))).collect();
        done.sort_by_key(|(i, _)| *i);
        return done.into_iter().map(|(_, r)| r).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..order.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push((i, f(i)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            for (i, r) in worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                results[i] = Some(r);
            }
        }
    });
    results.into_iter().map(|r| r.expect("order is a permutation: every index ran once")).collect()
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
