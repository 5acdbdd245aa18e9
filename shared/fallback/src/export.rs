//! The tree as Mermaid (for people) and as JSON (for programs).

use crate::engine::Tree;
use crate::model::{NodeKind, Root};
use std::fmt::Write;

impl Tree {
    /// A Mermaid flowchart: questions as rhombi, outcomes as rounded boxes, answers on
    /// the edges; Japanese text.
    pub fn to_mermaid(&self) -> String {
        let escape = |s: &str| s.replace('"', "#quot;");
        let mut out = String::from("flowchart TD\n");
        for root in Root::all() {
            let _ = writeln!(out, "    start_{root:?}([{root:?}]) --> {}", root.node_id());
        }
        for node in self.nodes() {
            match &node.kind {
                NodeKind::Question(q) => {
                    let _ = writeln!(out, "    {}{{\"{}\"}}", node.id, escape(q.text.ja));
                    for a in q.answers {
                        let _ = writeln!(
                            out,
                            "    {} -->|\"{}\"| {}",
                            node.id,
                            escape(a.text.ja),
                            a.next
                        );
                    }
                }
                NodeKind::Outcome(o) => {
                    let _ = writeln!(out, "    {}(\"{}\")", node.id, escape(o.title.ja));
                }
            }
        }
        out
    }

    /// The nodes as JSON, with the roots.
    pub fn to_json(&self) -> String {
        let roots: Vec<_> = Root::all().iter().map(|r| (*r, r.node_id())).collect();
        let value = serde_json::json!({ "roots": roots, "nodes": self.nodes() });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}
