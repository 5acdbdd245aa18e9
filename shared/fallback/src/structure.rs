//! Structural checks of a tree and the enumeration of its paths.

use crate::engine::Tree;
use crate::model::{NodeKind, Root};
use std::collections::{BTreeSet, HashMap};

/// What is wrong with a tree's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    DuplicateId(&'static str),
    MissingTarget { from: &'static str, to: &'static str },
    DeadEnd(&'static str),
    DuplicateAnswer { node: &'static str, value: &'static str },
    Unreachable(&'static str),
    Cycle(Vec<&'static str>),
    MissingRoot(&'static str),
}

/// One root-to-outcome path: the node ids with the answer taken at each question.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path {
    pub root: &'static str,
    pub steps: Vec<(&'static str, &'static str)>,
    pub outcome: &'static str,
}

impl Tree {
    /// Every defect of the tree; empty for a sound one.
    pub fn defects(&self) -> Vec<Defect> {
        let mut defects = Vec::new();
        let mut seen = BTreeSet::new();
        for node in self.nodes() {
            if !seen.insert(node.id) {
                defects.push(Defect::DuplicateId(node.id));
            }
            if let NodeKind::Question(q) = &node.kind {
                if q.answers.is_empty() {
                    defects.push(Defect::DeadEnd(node.id));
                }
                let mut values = BTreeSet::new();
                for a in q.answers {
                    if !values.insert(a.value) {
                        defects.push(Defect::DuplicateAnswer { node: node.id, value: a.value });
                    }
                    if self.node(a.next).is_none() {
                        defects.push(Defect::MissingTarget { from: node.id, to: a.next });
                    }
                }
            }
        }
        for root in Root::all() {
            if self.node(root.node_id()).is_none() {
                defects.push(Defect::MissingRoot(root.node_id()));
            }
        }
        // Reachability and cycles by depth-first search with colours.
        let mut colour: HashMap<&str, u8> = HashMap::new(); // 1 on stack, 2 done
        let mut stack_path = Vec::new();
        for root in Root::all() {
            self.visit(root.node_id(), &mut colour, &mut stack_path, &mut defects);
        }
        for node in self.nodes() {
            if !colour.contains_key(node.id) {
                defects.push(Defect::Unreachable(node.id));
            }
        }
        defects
    }

    fn visit(
        &self,
        id: &'static str,
        colour: &mut HashMap<&'static str, u8>,
        stack: &mut Vec<&'static str>,
        defects: &mut Vec<Defect>,
    ) {
        match colour.get(id) {
            Some(2) => return,
            Some(_) => {
                let start = stack.iter().position(|n| *n == id).unwrap_or(0);
                defects.push(Defect::Cycle(stack[start..].to_vec()));
                return;
            }
            None => {}
        }
        let Some(node) = self.node(id) else { return };
        colour.insert(id, 1);
        stack.push(id);
        if let NodeKind::Question(q) = &node.kind {
            for a in q.answers {
                self.visit(a.next, colour, stack, defects);
            }
        }
        stack.pop();
        colour.insert(id, 2);
    }

    /// Every path from every root to an outcome. Call on a sound tree (no cycles).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        for root in Root::all() {
            let mut steps = Vec::new();
            self.walk(root.node_id(), root.node_id(), &mut steps, &mut out, 0);
        }
        out
    }

    fn walk(
        &self,
        root: &'static str,
        id: &'static str,
        steps: &mut Vec<(&'static str, &'static str)>,
        out: &mut Vec<Path>,
        depth: usize,
    ) {
        let Some(node) = self.node(id) else { return };
        if depth > self.nodes().len() {
            return;
        }
        match &node.kind {
            NodeKind::Outcome(_) => out.push(Path { root, steps: steps.clone(), outcome: id }),
            NodeKind::Question(q) => {
                for a in q.answers {
                    steps.push((id, a.value));
                    self.walk(root, a.next, steps, out, depth + 1);
                    steps.pop();
                }
            }
        }
    }
}
