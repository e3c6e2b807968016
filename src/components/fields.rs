//! The form built from Powens' `fields`.

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
    /// Values by field name (kept across re-renders).
    values: RwSignal<BTreeMap<String, String>>,
    /// Problems by field name.
    errors: Signal<BTreeMap<String, FieldProblem>>,
    /// A `passwordExpired` form: passwords are new ones.
    new_password: bool,
    on_submit: UnsyncCallback<()>,
) -> impl IntoView {
    let rows = fields
        .into_iter()
        .enumerate()
        .map(|(i, f)| view! { <FieldRow t=t field=f index=i values=values errors=errors new_password=new_password/> })
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

/// One field: label, input, help, error.
#[component]
fn FieldRow(
    t: &'static Texts,
    field: ConnectorField,
    index: usize,
    values: RwSignal<BTreeMap<String, String>>,
    errors: Signal<BTreeMap<String, FieldProblem>>,
    new_password: bool,
) -> impl IntoView {
    let kind = InputKind::of(&field);
    let id = format!("mend-f{index}");
    let help_id = format!("{id}-help");
    let err_id = format!("{id}-err");
    let name = field.name.clone();
    let label = field.display_label().to_owned();
    let required = field.required;
    let has_help = field
        .description
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty());
    let problem = {
        let name = name.clone();
        Memo::new(move |_| errors.with(|e| e.get(&name).copied()))
    };
    let described_by = {
        let (help_id, err_id) = (help_id.clone(), err_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_help {
                ids.push(help_id.clone());
            }
            if problem.get().is_some() {
                ids.push(err_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let value = {
        let name = name.clone();
        move || values.with(|v| v.get(&name).cloned().unwrap_or_default())
    };
    let on_input = {
        let name = name.clone();
        move |ev: leptos::ev::Event| {
            let v = ev
                .target()
                .and_then(|t| {
                    t.dyn_ref::<web_sys::HtmlInputElement>()
                        .map(|i| i.value())
                        .or_else(|| t.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
                })
                .unwrap_or_default();
            values.update(|m| {
                m.insert(name.clone(), v);
            });
        }
    };
    let invalid = move || problem.get().is_some().then_some("true");
    let control = match kind {
        InputKind::Select => {
            let options = field
                .values
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|o| {
                    let text = if o.label.trim().is_empty() {
                        o.value.clone()
                    } else {
                        o.label
                    };
                    let selected = {
                        let (value, v) = (value.clone(), o.value.clone());
                        move || value() == v
                    };
                    view! { <option value=o.value selected=selected>{text}</option> }
                })
                .collect_view();
            view! {
                <select id=id.clone() name=name.clone() class="mend__input" part="input"
                    aria-required=required.then_some("true") aria-invalid=invalid
                    aria-describedby=described_by.clone()
                    on:change=on_input.clone()>
                    <option value="">{t.choose}</option>
                    {options}
                </select>
            }
            .into_any()
        }
        _ => view! {
            <input id=id.clone() name=name.clone() class="mend__input" part="input"
                type=kind.html_type().unwrap_or("text")
                inputmode=kind.input_mode()
                autocomplete=kind.autocomplete(new_password)
                spellcheck="false" autocapitalize="off"
                aria-required=required.then_some("true") aria-invalid=invalid
                aria-describedby=described_by.clone()
                prop:value=value.clone()
                on:input=on_input.clone()/>
        }
        .into_any(),
    };
    view! {
        <div class="mend__field" part="field" data-type=field.kind.as_str().to_owned()>
            <label for=id.clone() class="mend__label" part="label">
                {label}
                {(!required).then(|| view! { " "<span class="mend__optional">{t.optional}</span> })}
            </label>
            {control}
            {field.description.filter(|_| has_help).map(|d| view! {
                <p id=help_id.clone() class="mend__help" part="help">{d}</p>
            })}
            {move || problem.get().map(|p| view! {
                <p id=err_id.clone() class="mend__error" part="error" role="alert">{problem_text(p, t)}</p>
            })}
        </div>
    }
}
