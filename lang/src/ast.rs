//! The syntax tree bake evaluates. Both native HCL (`*.pkr.hcl`, parsed by
//! hcl-edit) and HCL JSON (`*.pkr.json`) are lowered into it, so the evaluator
//! handles one form; every node keeps its span for diagnostics.

use crate::source::Span;
use crate::value::Value;

#[derive(Clone, Debug, Default)]
pub struct Body {
    pub attributes: Vec<Attribute>,
    /// Blocks in source order (provisioners run in this order).
    pub blocks: Vec<Block>,
    pub span: Span,
}

impl Body {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn blocks_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub name_span: Span,
    pub expr: Expr,
    /// The whole `name = expr`.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub kind: String,
    pub kind_span: Span,
    pub labels: Vec<Label>,
    pub body: Body,
    pub span: Span,
}

impl Block {
    /// The span of the block's header: its type and labels, which is where
    /// errors about the block as a whole point.
    pub fn header_span(&self) -> Span {
        self.labels.last().map_or(self.kind_span, |l| self.kind_span.to(l.span))
    }
}

#[derive(Clone, Debug)]
pub struct Label {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `null`, `true`, `42`, or a string without interpolation.
    Literal(Value),
    /// A quoted string or heredoc with interpolations or directives.
    Template(Vec<TemplatePart>),
    Tuple(Vec<Expr>),
    Object(Vec<(ObjectKey, Expr)>),
    /// A bare name: `var`, `local`, an iterator, or a type keyword like `string`.
    Variable(String),
    Traversal(Box<Expr>, Vec<Traverser>),
    Call(Box<Call>),
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    For(Box<ForExpr>),
    Parens(Box<Expr>),
}

#[derive(Clone, Debug)]
pub struct Call {
    pub name: String,
    pub name_span: Span,
    pub args: Vec<Expr>,
    /// `f(list...)`: the last argument is a list to expand.
    pub expand_final: bool,
}

#[derive(Clone, Debug)]
pub enum ObjectKey {
    /// `name = ...`: a bare identifier is the literal key.
    Ident(String, Span),
    /// `(expr) = ...` or `"string" = ...`.
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub enum Traverser {
    Attr(String, Span),
    Index(Expr),
    /// `.0`, the legacy index form.
    LegacyIndex(u64, Span),
    /// `.*`
    AttrSplat(Span),
    /// `[*]`
    FullSplat(Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
}

#[derive(Clone, Debug)]
pub struct ForExpr {
    pub key_var: Option<String>,
    pub value_var: String,
    pub collection: Expr,
    /// Present for object-producing `{ for ... : k => v }`.
    pub key_expr: Option<Expr>,
    pub value_expr: Expr,
    /// `...` after the value: group values with the same key into lists.
    pub grouping: bool,
    pub cond: Option<Expr>,
}

/// A piece of a string template. Strip markers (`~`) have already been applied
/// to the literals around them when the tree was built.
#[derive(Clone, Debug)]
pub enum TemplatePart {
    Literal(String),
    Interpolation(Expr),
    If { cond: Expr, then: Vec<TemplatePart>, otherwise: Vec<TemplatePart> },
    For { key_var: Option<String>, value_var: String, collection: Expr, body: Vec<TemplatePart> },
}
