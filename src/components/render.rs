//! The panel's DOM, built from a [`Panel`] with plain DOM calls.
//!
//! Why not `view!` here: Leptos monomorphises every distinct element shape into its
//! own build/rebuild/mount code, and the panel (every state, the form's every field
//! type, dates, sources, notice) has many shapes. Measured: the panel and form in
//! `view!` cost 33.6 KB gzip of wasm, over a quarter of the size budget; this builder,
//! a handful of DOM calls in loops, a fraction of that (BENCHMARKS.md, "Widget").
//! The panel is static between two renders (Leptos re-renders it when the machine or
//! the form's problems change), and events reach the controller through three
//! listeners delegated on the widget's root (see `Ctl::start`), so nothing here holds
//! a closure.
//!
//! Every string from Powens goes through `set_text_content` / `create_text_node`:
//! text, never HTML.

use crate::form::InputKind;
use crate::i18n::Texts;
use crate::panel::{Extra, Panel, clock_text, retry_text};
use mend_model::ConnectorField;
use mend_model::api::{Action, FieldProblem};
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

/// What to say about a refused value.
pub fn problem_text(p: FieldProblem, t: &'static Texts) -> &'static str {
    match p {
        FieldProblem::Required => t.field_required,
        FieldProblem::Pattern => t.field_pattern,
        FieldProblem::NotInList => t.field_not_in_list,
        FieldProblem::TooLong => t.field_too_long,
        FieldProblem::Unknown => t.field_unknown,
    }
}

/// Everything a render needs besides the panel.
#[derive(Debug)]
pub struct Context<'a> {
    /// The copy.
    pub t: &'static Texts,
    /// The action in flight: buttons are disabled meanwhile.
    pub busy: Option<Action>,
    /// The form's values so far.
    pub values: &'a BTreeMap<String, String>,
    /// The form's problems.
    pub errors: &'a BTreeMap<String, FieldProblem>,
    /// The notice above the panel: `(text, good news)`.
    pub notice: Option<(&'static str, bool)>,
    /// The clock (ms since the epoch).
    pub now: f64,
}

fn el(doc: &Document, parent: &Element, tag: &str, class: &str, part: &str) -> Element {
    // Creating an element in a live document only fails for invalid tag names.
    let e = doc.create_element(tag).expect("a known tag");
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if !part.is_empty() {
        set(&e, "part", part);
    }
    let _ = parent.append_child(&e);
    e
}

fn set(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

fn text(doc: &Document, parent: &Element, s: &str) {
    let _ = parent.append_child(&doc.create_text_node(s));
}

fn para(doc: &Document, parent: &Element, class: &str, part: &str, s: &str) -> Element {
    let p = el(doc, parent, "p", class, part);
    p.set_text_content(Some(s));
    p
}

/// The focused element, if it is inside `root` (which may be in a shadow root).
fn focused_in(doc: &Document, root: &Element) -> Option<Element> {
    let active = match root.get_root_node().dyn_into::<web_sys::ShadowRoot>() {
        Ok(shadow) => shadow.active_element(),
        Err(_) => doc.active_element(),
    }?;
    root.contains(Some(&active)).then_some(active)
}

/// After a re-render, puts focus back on the control that had it (same `data-action`
/// or same field `name`), else on the heading, so that a keyboard or screen-reader
/// user is never dropped to the top of the page.
fn refocus(doc: &Document, root: &Element, had: &Element) {
    let key = |e: &Element| {
        (
            e.get_attribute("data-action"),
            e.get_attribute("name"),
            e.tag_name(),
        )
    };
    let wanted = key(had);
    let candidates = root.query_selector_all("button, input, select").ok();
    let same = candidates.and_then(|list| {
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
            .find(|e| key(e) == wanted)
    });
    let focus = |e: &Element| {
        e.dyn_ref::<web_sys::HtmlElement>()
            .map(|h| h.focus().is_ok())
            .unwrap_or(false)
    };
    let landed = same
        .as_ref()
        .is_some_and(|e| focus(e) && focused_in(doc, root).as_ref() == Some(e));
    if !landed && let Ok(Some(title)) = root.query_selector(".mend__title") {
        focus(&title);
    }
}

/// Replaces the content of `root` with the notice and the panel.
pub fn render(doc: &Document, root: &Element, p: &Panel, cx: &Context<'_>) {
    let had_focus = focused_in(doc, root);
    paint(doc, root, p, cx);
    if let Some(had) = had_focus {
        refocus(doc, root, &had);
    }
}

fn paint(doc: &Document, root: &Element, p: &Panel, cx: &Context<'_>) {
    root.set_text_content(None);
    if let Some((msg, ok)) = cx.notice {
        let n = el(doc, root, "div", "mend__notice", "notice");
        set(&n, "data-tone", if ok { "ok" } else { "alert" });
        set(&n, "role", if ok { "status" } else { "alert" });
        para(doc, &n, "mend__notice-text", "", msg);
        button(
            doc,
            &n,
            "mend__btn mend__btn--link",
            Action::Dismiss,
            cx.t.dismiss,
            None,
        );
    }
    let a = el(doc, root, "article", "mend__panel", "panel");
    set(&a, "data-tone", p.tone);
    if let Some(b) = &p.bank {
        para(doc, &a, "mend__bank", "bank", b);
    }
    let h = para(doc, &a, "mend__title", "title", p.title);
    set(&h, "tabindex", "-1");
    if let Some(m) = &p.message {
        para(doc, &a, "mend__message", "message", m);
    }
    if let Some(b) = p.body {
        para(doc, &a, "mend__text", "", b);
    }
    match &p.extra {
        Extra::None => {}
        Extra::Spinner(label) => {
            let d = el(doc, &a, "div", "mend__countdown", "countdown");
            let pr = el(doc, &d, "progress", "mend__progress", "progress");
            set(&pr, "aria-label", label);
        }
        Extra::Countdown { started, deadline } => {
            let d = el(doc, &a, "div", "mend__countdown", "countdown");
            let pr = el(doc, &d, "progress", "mend__progress", "progress");
            set(&pr, "aria-label", cx.t.time_left);
            set(&pr, "data-started", &(*started as i64).to_string());
            set(&pr, "data-deadline", &(*deadline as i64).to_string());
            let m = para(doc, &d, "mend__meta", "", cx.t.time_left);
            text(doc, &m, " ");
            el(doc, &m, "span", "mend__clock", "");
            tick(root, cx.t, cx.now);
        }
        Extra::RetryCountdown { at } => {
            let m = el(doc, &a, "p", "mend__meta mend__retry", "meta");
            set(
                &m,
                "data-at",
                &if at.is_finite() {
                    (*at as i64).to_string()
                } else {
                    String::new()
                },
            );
            tick(root, cx.t, cx.now);
        }
        Extra::Form {
            fields,
            new_password,
        } => form(doc, &a, fields, *new_password, cx),
    }
    for (label, iso) in &p.dates {
        let m = para(doc, &a, "mend__meta", "meta", label);
        text(doc, &m, " ");
        let time = el(doc, &m, "time", "", "");
        set(&time, "datetime", iso);
        time.set_text_content(Some(&crate::dom::format_date(iso, cx.t.lang)));
    }
    if !p.buttons.is_empty() {
        let row = el(doc, &a, "div", "mend__actions", "actions");
        for b in &p.buttons {
            let class = if b.primary {
                "mend__btn mend__btn--primary"
            } else {
                "mend__btn"
            };
            button(doc, &row, class, b.action, b.label, cx.busy);
        }
    }
    if !p.sources.is_empty() {
        let d = el(doc, &a, "div", "mend__sources", "sources");
        para(doc, &d, "mend__sources-title", "", cx.t.sources);
        let ul = el(doc, &d, "ul", "", "");
        for (name, state, label) in &p.sources {
            let li = el(doc, &ul, "li", "", "");
            set(&li, "data-state", state);
            para_span(doc, &li, name);
            text(doc, &li, ": ");
            text(doc, &li, label);
        }
    }
}

fn para_span(doc: &Document, parent: &Element, s: &str) {
    let span = el(doc, parent, "span", "mend__source-name", "");
    span.set_text_content(Some(s));
}

/// A `type=button` with its `data-action`; disabled while any action is in flight.
fn button(
    doc: &Document,
    parent: &Element,
    class: &str,
    action: Action,
    label: &str,
    busy: Option<Action>,
) {
    let b = el(doc, parent, "button", class, "button");
    set(&b, "type", "button");
    set(&b, "data-action", action.as_str());
    if busy.is_some() {
        set(&b, "disabled", "");
    }
    if busy == Some(action) {
        set(&b, "aria-busy", "true");
    }
    b.set_text_content(Some(label));
}

/// Updates the countdowns under `root` to `now` (called every second by the view,
/// so the rest of the panel, and the focus in it, stay put).
pub fn tick(root: &Element, t: &'static Texts, now: f64) {
    let num = |e: &Element, a: &str| e.get_attribute(a).and_then(|v| v.parse::<i64>().ok());
    if let Ok(Some(pr)) = root.query_selector("progress[data-deadline]") {
        let (Some(started), Some(deadline)) = (num(&pr, "data-started"), num(&pr, "data-deadline"))
        else {
            return;
        };
        let total = ((deadline - started) / 1000).max(1);
        let left = ((deadline - now as i64 + 999) / 1000).clamp(0, total);
        set(&pr, "max", &total.to_string());
        set(&pr, "value", &(total - left).to_string());
        if let Ok(Some(clock)) = root.query_selector(".mend__clock") {
            clock.set_text_content(Some(&clock_text(left)));
        }
    }
    if let Ok(Some(p)) = root.query_selector(".mend__retry") {
        let at = num(&p, "data-at").map(|a| a as f64);
        p.set_text_content(Some(&retry_text(t, at, now)));
    }
}

/// The form of `fields`: labels from `label`, help from `description`, inline errors
/// announced (`aria-invalid`, `aria-describedby`, `role=alert`). `novalidate`: the
/// widget checks (with the browser's `RegExp`) and speaks its own language.
fn form(
    doc: &Document,
    parent: &Element,
    fields: &[ConnectorField],
    new_password: bool,
    cx: &Context<'_>,
) {
    let f = el(doc, parent, "form", "mend__form", "form");
    set(&f, "novalidate", "");
    for (i, field) in fields.iter().enumerate() {
        row(doc, &f, field, i, new_password, cx);
    }
    let actions = el(doc, &f, "div", "mend__actions", "actions");
    let sending = cx.busy == Some(Action::Submit);
    let b = el(
        doc,
        &actions,
        "button",
        "mend__btn mend__btn--primary",
        "button",
    );
    set(&b, "type", "submit");
    set(&b, "data-action", "submit");
    if cx.busy.is_some() {
        set(&b, "disabled", "");
    }
    if sending {
        set(&b, "aria-busy", "true");
    }
    b.set_text_content(Some(if sending { cx.t.sending } else { cx.t.send }));
}

/// One field: label, control, help, error.
fn row(
    doc: &Document,
    form: &Element,
    field: &ConnectorField,
    index: usize,
    new_password: bool,
    cx: &Context<'_>,
) {
    let kind = InputKind::of(field);
    let id = format!("mend-f{index}");
    let help = field
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty());
    let problem = cx.errors.get(&field.name).copied();
    let value = cx.values.get(&field.name).map(String::as_str).unwrap_or("");

    let d = el(doc, form, "div", "mend__field", "field");
    set(&d, "data-type", field.kind.as_str());
    let label = el(doc, &d, "label", "mend__label", "label");
    set(&label, "for", &id);
    text(doc, &label, field.display_label());
    if !field.required {
        text(doc, &label, " ");
        let o = el(doc, &label, "span", "mend__optional", "");
        o.set_text_content(Some(cx.t.optional));
    }

    let control = if kind == InputKind::Select {
        let s = el(doc, &d, "select", "mend__input", "input");
        let first = el(doc, &s, "option", "", "");
        set(&first, "value", "");
        first.set_text_content(Some(cx.t.choose));
        for o in field.values.iter().flatten() {
            let opt = el(doc, &s, "option", "", "");
            set(&opt, "value", &o.value);
            if o.value == value {
                set(&opt, "selected", "");
            }
            let shown = if o.label.trim().is_empty() {
                &o.value
            } else {
                &o.label
            };
            opt.set_text_content(Some(shown));
        }
        s
    } else {
        let i = el(doc, &d, "input", "mend__input", "input");
        set(&i, "type", kind.html_type().unwrap_or("text"));
        if let Some(mode) = kind.input_mode() {
            set(&i, "inputmode", mode);
        }
        set(&i, "autocomplete", kind.autocomplete(new_password));
        set(&i, "spellcheck", "false");
        set(&i, "autocapitalize", "off");
        set(&i, "value", value);
        i
    };
    set(&control, "id", &id);
    set(&control, "name", &field.name);
    if field.required {
        set(&control, "aria-required", "true");
    }
    let mut described = Vec::new();
    if let Some(h) = help {
        let hid = format!("{id}-help");
        let p = para(doc, &d, "mend__help", "help", h);
        set(&p, "id", &hid);
        described.push(hid);
    }
    if let Some(pr) = problem {
        set(&control, "aria-invalid", "true");
        let eid = format!("{id}-err");
        let p = para(doc, &d, "mend__error", "error", problem_text(pr, cx.t));
        set(&p, "id", &eid);
        set(&p, "role", "alert");
        described.push(eid);
    }
    if !described.is_empty() {
        set(&control, "aria-describedby", &described.join(" "));
    }
}
