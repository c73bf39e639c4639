//! Pass: the steps form a DAG. Gives a topological order (file order breaking ties); reports each cycle
//! as its path (`a -> b -> a`).

use std::collections::{BTreeSet, HashSet};

use super::{Context, Deps};
use crate::diagnostic::{Diagnostic, Kind};
use crate::source::YamlPath;

pub(crate) fn check(ctx: &Context<'_>, deps: &Deps, out: &mut Vec<Diagnostic>) -> Vec<usize> {
    let n = deps.deps.len();
    let mut waiting: Vec<usize> = deps.deps.iter().map(BTreeSet::len).collect();
    let mut dependents = vec![Vec::new(); n];
    for (i, list) in deps.deps.iter().enumerate() {
        for &j in list {
            dependents[j].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &k in &dependents[i] {
            waiting[k] -= 1;
            if waiting[k] == 0 {
                ready.insert(k);
            }
        }
    }
    if order.len() < n {
        let mut reported: HashSet<usize> = HashSet::new();
        for start in (0..n).filter(|&i| waiting[i] > 0) {
            if reported.contains(&start) {
                continue;
            }
            if let Some(cycle) = find_cycle(start, deps, &waiting) {
                if cycle.iter().any(|i| reported.contains(i)) {
                    continue;
                }
                reported.extend(&cycle);
                let first = *cycle.iter().min().unwrap_or(&start);
                let rotate = cycle.iter().position(|&i| i == first).unwrap_or(0);
                let mut path: Vec<String> = cycle[rotate..]
                    .iter()
                    .chain(&cycle[..rotate])
                    .map(|&i| ctx.flow.steps[i].id.clone())
                    .collect();
                path.push(ctx.flow.steps[first].id.clone());
                out.push(Diagnostic::value(
                    Kind::Cycle { path },
                    &YamlPath::root().key("steps").index(first).key("id"),
                ));
            }
        }
    }
    order
}

/// A cycle reachable from `start` among the steps still waiting, as the list of its steps.
fn find_cycle(start: usize, deps: &Deps, waiting: &[usize]) -> Option<Vec<usize>> {
    let mut stack = vec![start];
    let mut on_stack: HashSet<usize> = HashSet::from([start]);
    let mut visited: HashSet<usize> = HashSet::new();
    let mut cursors = vec![0usize];
    while let Some(&node) = stack.last() {
        let next = deps.deps[node]
            .iter()
            .copied()
            .filter(|&d| waiting[d] > 0)
            .nth(*cursors.last()?);
        match next {
            Some(next) => {
                *cursors.last_mut()? += 1;
                if on_stack.contains(&next) {
                    let at = stack.iter().position(|&s| s == next)?;
                    return Some(stack[at..].to_vec());
                }
                if visited.insert(next) {
                    stack.push(next);
                    on_stack.insert(next);
                    cursors.push(0);
                }
            }
            None => {
                stack.pop();
                cursors.pop();
                on_stack.remove(&node);
            }
        }
    }
    None
}
