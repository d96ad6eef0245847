//! The sign-in form's "Create a new account" mode (XEP-0077 in-band registration):
//! the password asked twice, then the server's registration form asked for without
//! logging in; what it needs beyond a user name and password (simple text fields, a
//! CAPTCHA picture) is shown here, and what cannot be shown (another CAPTCHA, a list)
//! sends people to the server's website in words. Once the server made the account,
//! the form signs in with it as usual.

use crate::session::register::{Pixels, Registrar};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::screen::settings::account_server::register_error_text;
use crate::ui::theme;
use crate::xmpp::register::{Fillable, RegForm, RegisterError};
use iced::widget::{column, container, image, text, text_input};
use iced::{Element, Length};

pub const REPEAT_ID: &str = "onboarding-repeat-password";
pub const CAPTCHA_ID: &str = "onboarding-captcha";

#[derive(Debug, Clone)]
pub enum Message {
    RepeatChanged(String),
    ExtraChanged(String, String),
    CaptchaChanged(String),
    /// The server's registration form (and its CAPTCHA picture) or why not.
    Opened(Result<(RegForm, Registrar, Option<Pixels>), RegisterError>),
    /// The server made the account, or why not.
    Sent(Result<(), RegisterError>),
    /// "Trust this certificate" (handled by the sign-in form, which keeps the pins).
    TrustCertificate(String),
}

#[derive(Debug, Default)]
enum Phase {
    /// Nothing asked yet (or ask again).
    #[default]
    Idle,
    Asking,
    /// The form needs more than a user name and a password.
    Filling {
        form: Box<RegForm>,
        registrar: Registrar,
        picture: Option<image::Handle>,
    },
    Sending {
        form: Box<RegForm>,
        registrar: Registrar,
        picture: Option<image::Handle>,
    },
}

#[derive(Debug, Clone)]
enum Problem {
    Differs,
    Server(RegisterError),
    Cannot(Fillable, Option<String>),
    Missing(Vec<String>),
}

/// What the "create" mode adds to the sign-in form.
#[derive(Debug, Default)]
pub struct Registration {
    repeat: String,
    captcha: String,
    phase: Phase,
    problem: Option<Problem>,
}

/// What the sign-in form does next.
pub enum Next {
    Nothing,
    /// Ask the server for its form.
    Ask,
    /// Send this filled-in form.
    Send(Registrar, Box<RegForm>),
    /// The account exists: sign in with it.
    SignIn,
}

impl Registration {
    pub fn busy(&self) -> bool {
        matches!(self.phase, Phase::Asking | Phase::Sending { .. })
    }

    pub fn asking(&mut self) {
        self.phase = Phase::Asking;
        self.problem = None;
    }

    /// The person pressed "Create account" with this user name and password.
    pub fn submit(&mut self, username: &str, password: &str) -> Next {
        if self.busy() {
            return Next::Nothing;
        }
        if password != self.repeat {
            self.problem = Some(Problem::Differs);
            return Next::Nothing;
        }
        self.problem = None;
        match std::mem::take(&mut self.phase) {
            Phase::Filling {
                form,
                registrar,
                picture,
            } => self.send(username, password, form, registrar, picture),
            _ => Next::Ask,
        }
    }

    fn send(
        &mut self,
        username: &str,
        password: &str,
        mut form: Box<RegForm>,
        registrar: Registrar,
        picture: Option<image::Handle>,
    ) -> Next {
        form.set("username", username);
        form.set("password", password);
        if let Some(var) = form.captcha.as_ref().and_then(|c| c.var.clone()) {
            form.set(&var, self.captcha.trim());
        }
        let missing = form.missing();
        if !missing.is_empty() {
            self.problem = Some(Problem::Missing(missing));
            self.phase = Phase::Filling {
                form,
                registrar,
                picture,
            };
            return Next::Nothing;
        }
        self.phase = Phase::Sending {
            form: form.clone(),
            registrar: registrar.clone(),
            picture,
        };
        Next::Send(registrar, form)
    }

    pub fn update(&mut self, message: Message, username: &str, password: &str) -> Next {
        match message {
            Message::RepeatChanged(value) => {
                self.repeat = value;
                if matches!(self.problem, Some(Problem::Differs)) {
                    self.problem = None;
                }
            }
            Message::ExtraChanged(var, value) => {
                if let Phase::Filling { form, .. } = &mut self.phase {
                    form.set(&var, &value);
                }
            }
            Message::CaptchaChanged(value) => self.captcha = value,
            Message::TrustCertificate(_) => {}
            Message::Opened(result) => {
                if !matches!(self.phase, Phase::Asking) {
                    return Next::Nothing;
                }
                self.phase = Phase::Idle;
                match result {
                    Err(e) => self.problem = Some(Problem::Server(e)),
                    // A picture that came but does not decode (or is too large) cannot
                    // be answered here either.
                    Ok((form, _, None)) if form.captcha.is_some() => {
                        self.problem = Some(Problem::Cannot(
                            Fillable::CaptchaElsewhere,
                            form.website.clone(),
                        ));
                    }
                    Ok((form, registrar, pixels)) => match form.fillable() {
                        Fillable::Yes => {
                            let picture =
                                pixels.map(|p| image::Handle::from_rgba(p.width, p.height, p.rgba));
                            let simple =
                                form.captcha.is_none() && form.extra_fields().next().is_none();
                            let form = Box::new(form);
                            if simple {
                                return self.send(username, password, form, registrar, picture);
                            }
                            self.captcha.clear();
                            self.phase = Phase::Filling {
                                form,
                                registrar,
                                picture,
                            };
                        }
                        other => self.problem = Some(Problem::Cannot(other, form.website.clone())),
                    },
                }
            }
            Message::Sent(result) => {
                let Phase::Sending {
                    form,
                    registrar,
                    picture,
                } = std::mem::take(&mut self.phase)
                else {
                    return Next::Nothing;
                };
                match result {
                    Ok(()) => return Next::SignIn,
                    Err(e) => {
                        // A CAPTCHA answers once, and a broken stream is gone: ask anew.
                        let again = form.captcha.is_some()
                            || matches!(e, RegisterError::Connection(_) | RegisterError::NoAnswer);
                        if !again {
                            self.phase = Phase::Filling {
                                form,
                                registrar,
                                picture,
                            };
                        }
                        self.problem = Some(Problem::Server(e));
                    }
                }
            }
        }
        Next::Nothing
    }

    pub fn view(&self, lang: Lang, editable: bool) -> Element<'_, Message> {
        let mut col = column![
            text(tr(lang, T::RepeatPasswordCreate)).size(14),
            text_input(tr(lang, T::PasswordPlaceholder), &self.repeat)
                .on_input_maybe(editable.then_some(Message::RepeatChanged))
                .secure(true)
                .padding(8)
                .style(theme::input)
                .id(REPEAT_ID),
        ]
        .spacing(6);
        if let Phase::Filling { form, picture, .. } | Phase::Sending { form, picture, .. } =
            &self.phase
        {
            if let Some(instructions) = &form.instructions {
                col = col.push(text(instructions.as_str()).size(13).style(theme::muted));
            }
            let extras: Vec<_> = form.extra_fields().collect();
            if !extras.is_empty() {
                col = col.push(text(tr(lang, T::RegMoreFields)).size(14));
            }
            for field in extras {
                let var = field.var.clone();
                col = col.push(text(field.title()).size(13)).push(
                    text_input(field.title(), &field.value)
                        .on_input_maybe(
                            editable.then_some(move |v| Message::ExtraChanged(var.clone(), v)),
                        )
                        .secure(field.kind == crate::xmpp::muc::form::FieldKind::TextPrivate)
                        .padding(8)
                        .style(theme::input),
                );
            }
            if let Some(picture) = picture {
                col = col
                    .push(text(tr(lang, T::RegCaptchaLabel)).size(14))
                    .push(image(picture.clone()).height(80))
                    .push(
                        text_input("", &self.captcha)
                            .on_input_maybe(editable.then_some(Message::CaptchaChanged))
                            .padding(8)
                            .style(theme::input)
                            .id(CAPTCHA_ID),
                    );
            }
        }
        if matches!(self.phase, Phase::Asking | Phase::Sending { .. }) {
            col = col.push(
                text(tr(lang, T::CreatingAccount))
                    .size(13)
                    .style(theme::muted),
            );
        }
        if let Some(Problem::Server(RegisterError::Certificate {
            reason,
            fingerprint_sha256,
            names,
        })) = &self.problem
        {
            let trust = (editable && !self.busy())
                .then(|| Message::TrustCertificate(fingerprint_sha256.clone()));
            col = col.push(
                container(super::certificate_view(
                    lang,
                    reason,
                    fingerprint_sha256,
                    names,
                    trust,
                ))
                .padding(12)
                .width(Length::Fill)
                .style(theme::error_box),
            );
        } else if let Some(problem) = &self.problem {
            col = col.push(
                container(text(problem_text(lang, problem)).size(14))
                    .padding(12)
                    .width(Length::Fill)
                    .style(theme::error_box),
            );
        }
        col.into()
    }
}

fn problem_text(lang: Lang, problem: &Problem) -> String {
    match problem {
        Problem::Differs => tr(lang, T::PasswordsDiffer).to_owned(),
        Problem::Server(e) => register_error_text(lang, e),
        Problem::Missing(fields) => trf(lang, T::RegMissing, &[("fields", &fields.join(", "))]),
        Problem::Cannot(Fillable::CaptchaElsewhere, _) => {
            tr(lang, T::RegCaptchaElsewhere).to_owned()
        }
        Problem::Cannot(Fillable::FieldsElsewhere(fields), _) => trf(
            lang,
            T::RegFieldsElsewhere,
            &[("fields", &fields.join(", "))],
        ),
        Problem::Cannot(_, Some(url)) => trf(lang, T::RegWebsiteAt, &[("url", url)]),
        Problem::Cannot(_, None) => tr(lang, T::RegWebsiteOnly).to_owned(),
    }
}
