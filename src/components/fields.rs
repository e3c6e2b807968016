//! The form built from Powens' `fields`.
//!
//! Rendered statically from a snapshot of values and problems: the panel re-renders
//! when the problems change (only on a submit), so no attribute here needs its own
//! reactive effect (each one is monomorphised code in the wasm: the static form
//! measured 6 KB gzip lighter than a reactive one).

use crate::form::InputKind;
use crate::i18n::Texts;
use leptos::prelude::*;
use mend_model::ConnectorField;
use mend_model::api::{Action, FieldProblem};
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;

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

/// A form of `fields`: labels from `label`, help from `description`, inline errors
/// announced (`aria-invalid`, `aria-describedby`, `role=alert`). `novalidate`: the
/// widget checks (with the browser's `RegExp`) and speaks its own language.
#[component]
pub fn FieldsForm(
    t: &'static Texts,
    fields: Vec<ConnectorField>,
    /// The action in flight: the submit button is disabled meanwhile.
    busy: Option<Action>,
    /// Values by field name, as typed so far.
    values: BTreeMap<String, String>,
    /// Problems by field name.
    errors: BTreeMap<String, FieldProblem>,
    /// A `passwordExpired` form: passwords are new ones.
    new_password: bool,
    /// A value changed: `(name, value)`.
    on_input: UnsyncCallback<(String, String)>,
    on_submit: UnsyncCallback<()>,
) -> impl IntoView {
    let rows = fields
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let value = values.get(&f.name).cloned().unwrap_or_default();
            let problem = errors.get(&f.name).copied();
            field_row(t, f, i, value, problem, new_password, on_input)
        })
        .collect_view();
    let sending = busy == Some(Action::Submit);
    view! {
        <form class="mend__form" part="form" novalidate
            on:submit=move |ev| { ev.prevent_default(); on_submit.run(()); }>
            {rows}
            <div class="mend__actions" part="actions">
                <button type="submit" class="mend__btn mend__btn--primary" part="button" data-action="submit"
                    disabled=busy.is_some() aria-busy=sending.then_some("true")>
                    {if sending { t.sending } else { t.send }}
                </button>
            </div>
        </form>
    }
}

/// One field: label, control, help, error.
fn field_row(
    t: &'static Texts,
    field: ConnectorField,
    index: usize,
    value: String,
    problem: Option<FieldProblem>,
    new_password: bool,
    on_input: UnsyncCallback<(String, String)>,
) -> impl IntoView {
    let kind = InputKind::of(&field);
    let id = format!("mend-f{index}");
    let help = field.description.clone().filter(|d| !d.trim().is_empty());
    let help_id = help.as_ref().map(|_| format!("{id}-help"));
    let err_id = problem.map(|_| format!("{id}-err"));
    let described_by = match (&help_id, &err_id) {
        (Some(h), Some(e)) => Some(format!("{h} {e}")),
        (h, e) => h.clone().or_else(|| e.clone()),
    };
    let name = field.name.clone();
    let input = move |ev: leptos::ev::Event| {
        let v = ev
            .target()
            .and_then(|t| {
                t.dyn_ref::<web_sys::HtmlInputElement>()
                    .map(|i| i.value())
                    .or_else(|| t.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
            })
            .unwrap_or_default();
        on_input.run((name.clone(), v));
    };
    let required = field.required.then_some("true");
    let invalid = problem.map(|_| "true");
    let control = if kind == InputKind::Select {
        let options = field
            .values
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let selected = o.value == value;
                let text = if o.label.trim().is_empty() {
                    o.value.clone()
                } else {
                    o.label
                };
                view! { <option value=o.value selected=selected>{text}</option> }
            })
            .collect_view();
        view! {
            <select id=id.clone() name=field.name.clone() class="mend__input" part="input"
                aria-required=required aria-invalid=invalid aria-describedby=described_by
                on:input=input>
                <option value="">{t.choose}</option>
                {options}
            </select>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=field.name.clone() class="mend__input" part="input"
                type=kind.html_type().unwrap_or("text")
                inputmode=kind.input_mode()
                autocomplete=kind.autocomplete(new_password)
                spellcheck="false" autocapitalize="off"
                aria-required=required aria-invalid=invalid aria-describedby=described_by
                value=value
                on:input=input/>
        }
        .into_any()
    };
    view! {
        <div class="mend__field" part="field" data-type=field.kind.as_str().to_owned()>
            <label for=id class="mend__label" part="label">
                {field.display_label().to_owned()}
                {(!field.required).then(|| view! { " "<span class="mend__optional">{t.optional}</span> })}
            </label>
            {control}
            {help.map(|d| view! { <p id=help_id class="mend__help" part="help">{d}</p> })}
            {problem.map(|p| view! {
                <p id=err_id class="mend__error" part="error" role="alert">{problem_text(p, t)}</p>
            })}
        </div>
    }
}
