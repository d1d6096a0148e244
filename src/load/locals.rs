//! Locals and data sources, evaluated together in dependency order: a local
//! may use a data source's outputs and a data source's configuration may use
//! locals, as in Packer. Cycles and references to undeclared names are
//! reported where they are written.

use super::template::{DataDecl, LocalDecl, Template};
use super::LocalValue;
use bake_lang::ast::Expr;
use bake_lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_lang::eval::{references, EvalBody, Evaluator};
use bake_lang::{Span, Value};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};

/// Turns a data block's evaluated configuration into its value: the
/// outputs at build time, placeholders of the same shape for `validate`.
/// The third argument is every value known to be sensitive so far (the
/// sensitive variables'), which a data source's output must mask.
pub type DataResolver<'a> = dyn Fn(&DataDecl, &EvalBody, &[String]) -> Result<Value, Diagnostics> + 'a;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Node {
    Local(usize),
    Data(usize),
}

struct Graph<'a> {
    template: &'a Template,
    deps: BTreeMap<Node, Vec<Node>>,
}

impl<'a> Graph<'a> {
    fn name(&self, n: Node) -> String {
        match n {
            Node::Local(i) => format!("local.{}", self.template.locals[i].name),
            Node::Data(i) => format!("data.{}.{}", self.template.data[i].kind, self.template.data[i].name),
        }
    }

    fn span(&self, n: Node) -> Span {
        match n {
            Node::Local(i) => self.template.locals[i].span,
            Node::Data(i) => self.template.data[i].span,
        }
    }
}

/// Evaluates every local and data source. One that refers to a name in
/// `unknown` (an unset variable, for `inspect`) is not evaluated: it becomes
/// unknown too, and its name joins the set.
pub fn evaluate(
    template: &Template,
    ev: &mut Evaluator,
    resolve: &DataResolver,
    secrets: &[String],
    unknown: &mut BTreeSet<String>,
    diags: &mut Diagnostics,
) -> IndexMap<String, LocalValue> {
    let Some(order) = order(template, diags) else { return IndexMap::new() };
    let mut locals: BTreeMap<String, Value> = BTreeMap::new();
    let mut data: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    let mut out: BTreeMap<usize, LocalValue> = BTreeMap::new();
    let graph = Graph { template, deps: BTreeMap::new() };
    for node in order {
        if node_exprs(template, node).into_iter().flat_map(references).any(|r| unknown.contains(&reference_name(&r))) {
            unknown.insert(graph.name(node));
            if let Node::Local(i) = node {
                out.insert(i, LocalValue { value: Value::Null, sensitive: false, unknown: true });
            }
            continue;
        }
        ev.root.insert("local".into(), Value::Object(locals.clone()));
        ev.root.insert("data".into(), Value::Object(data.iter().map(|(k, v)| (k.clone(), Value::Object(v.clone()))).collect()));
        match node {
            Node::Local(i) => {
                let decl: &LocalDecl = &template.locals[i];
                match ev.eval(&decl.expr) {
                    Ok(value) => {
                        let sensitive = decl.sensitive.as_ref().is_some_and(|e| matches!(ev.eval(e), Ok(Value::Bool(true))));
                        locals.insert(decl.name.clone(), value.clone());
                        out.insert(i, LocalValue { value, sensitive, unknown: false });
                    }
                    Err(d) => diags.push(d),
                }
            }
            Node::Data(i) => {
                let decl = &template.data[i];
                match ev.eval_body(&decl.body).and_then(|body| resolve(decl, &EvalBody { span: decl.span, ..body }, secrets)) {
                    Ok(value) => {
                        data.entry(decl.kind.clone()).or_default().insert(decl.name.clone(), value);
                    }
                    Err(d) => diags.extend(d),
                }
            }
        }
    }
    ev.root.insert("local".into(), Value::Object(locals));
    ev.root.insert("data".into(), Value::Object(data.into_iter().map(|(k, v)| (k, Value::Object(v))).collect()));
    // Declaration order, for display.
    out.into_iter().map(|(i, v)| (template.locals[i].name.clone(), v)).collect()
}

/// The name a reference reads, as [`Graph::name`] and the variables name
/// them: `var.x`, `local.y`, `data.TYPE.NAME`.
pub(super) fn reference_name(r: &bake_lang::eval::Reference) -> String {
    let parts = if r.root == "data" { 2 } else { 1 };
    std::iter::once(r.root.as_str()).chain(r.path.iter().take(parts).map(String::as_str)).collect::<Vec<_>>().join(".")
}

/// What a local's or data block's expressions refer to.
fn node_exprs(template: &Template, n: Node) -> Vec<&Expr> {
    match n {
        Node::Local(i) => vec![&template.locals[i].expr],
        Node::Data(i) => body_exprs(&template.data[i].body),
    }
}

/// Every expression of a body, its nested blocks' included.
pub(super) fn body_exprs(body: &bake_lang::ast::Body) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = body.attributes.iter().map(|a| &a.expr).collect();
    for b in &body.blocks {
        out.extend(body_exprs(&b.body));
    }
    out
}

/// A topological order of locals and data sources.
fn order(template: &Template, diags: &mut Diagnostics) -> Option<Vec<Node>> {
    let nodes: Vec<Node> = (0..template.locals.len()).map(Node::Local).chain((0..template.data.len()).map(Node::Data)).collect();
    let mut graph = Graph { template, deps: BTreeMap::new() };
    let mut ok = true;
    for &n in &nodes {
        let mut deps = Vec::new();
        for expr in node_exprs(template, n) {
            for r in references(expr) {
                match r.root.as_str() {
                    "local" => {
                        let Some(name) = r.path.first() else { continue };
                        match template.locals.iter().position(|l| &l.name == name) {
                            Some(i) => deps.push(Node::Local(i)),
                            None => {
                                ok = false;
                                let mut d = Diagnostic::error(
                                    "Reference to undeclared local value",
                                    format!("A local value with the name \"{name}\" has not been declared."),
                                )
                                .at(r.span);
                                if let Some(s) = suggest(name, template.locals.iter().map(|l| l.name.as_str())) {
                                    d = d.with_help(format!("did you mean \"{s}\"?"));
                                }
                                diags.push(d);
                            }
                        }
                    }
                    "data" => {
                        let (Some(kind), Some(name)) = (r.path.first(), r.path.get(1)) else { continue };
                        match template.data.iter().position(|d| &d.kind == kind && &d.name == name) {
                            Some(i) => deps.push(Node::Data(i)),
                            None => {
                                ok = false;
                                let wanted = format!("{kind}.{name}");
                                let known: Vec<String> = template.data.iter().map(|d| format!("{}.{}", d.kind, d.name)).collect();
                                let mut d =
                                    Diagnostic::error("Reference to undeclared data source", format!("A data source \"{wanted}\" has not been declared."))
                                        .at(r.span);
                                if let Some(s) = suggest(&wanted, known.iter().map(String::as_str)) {
                                    d = d.with_help(format!("did you mean \"data.{s}\"?"));
                                }
                                diags.push(d);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        graph.deps.insert(n, deps);
    }
    if !ok {
        return None;
    }
    let mut marks: BTreeMap<Node, u8> = BTreeMap::new(); // 1 visiting, 2 done
    let mut order = Vec::new();
    for &n in &nodes {
        let mut stack = Vec::new();
        if !visit(n, &graph, &mut marks, &mut stack, &mut order, diags) {
            return None;
        }
    }
    Some(order)
}

fn visit(n: Node, g: &Graph, marks: &mut BTreeMap<Node, u8>, stack: &mut Vec<Node>, order: &mut Vec<Node>, diags: &mut Diagnostics) -> bool {
    match marks.get(&n) {
        Some(2) => return true,
        Some(_) => {
            let start = stack.iter().position(|s| *s == n).unwrap_or(0);
            let mut cycle: Vec<String> = stack[start..].iter().map(|s| g.name(*s)).collect();
            cycle.push(g.name(n));
            diags.push(
                Diagnostic::error("Cycle in local values", format!("These refer to each other in a loop: {}.", cycle.join(" → ")))
                    .at(g.span(n))
                    .with_help("break the loop by computing one of them without the others"),
            );
            return false;
        }
        None => {}
    }
    marks.insert(n, 1);
    stack.push(n);
    for d in &g.deps[&n] {
        if !visit(*d, g, marks, stack, order, diags) {
            return false;
        }
    }
    stack.pop();
    marks.insert(n, 2);
    order.push(n);
    true
}
