//! What a route takes and answers, named by type: the route table holds
//! [`Body`] values made from the request and answer types (`json::<T>()`),
//! and the document takes their schemas from `utoipa::ToSchema`.

use std::borrow::Cow;

use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};

/// Named schemas, as `utoipa` collects them.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A JSON value of one Rust type: its schema's name, the schema and the
/// schemas it refers to.
#[derive(Clone, Copy)]
pub struct Typed {
    name: fn() -> Cow<'static, str>,
    schema: fn() -> RefOr<Schema>,
    refs: fn(&mut Schemas),
    /// An array of the type rather than one.
    list: bool,
}

impl Typed {
    const fn of<T: ToSchema>(list: bool) -> Typed {
        Typed {
            name: T::name,
            schema: T::schema,
            refs: T::schemas,
            list,
        }
    }

    /// The schema's name in `components`.
    pub fn name(&self) -> Cow<'static, str> {
        (self.name)()
    }

    /// What an operation says: a `$ref` to the named schema, or an array
    /// of them.
    pub fn reference(&self) -> RefOr<Schema> {
        let one = RefOr::Ref(Ref::from_schema_name(self.name()));
        if self.list {
            ArrayBuilder::new().items(one).into()
        } else {
            one
        }
    }

    /// Adds the named schema and those it refers to.
    pub fn collect(&self, out: &mut Schemas) {
        out.push((self.name().into_owned(), (self.schema)()));
        (self.refs)(out);
    }
}

/// A request or answer body.
#[derive(Clone, Copy)]
pub enum Body {
    /// `application/json` of one type.
    Json(Typed),
    /// `application/json`, one of these types.
    OneOf(&'static [Typed]),
    /// `multipart/form-data` with these fields.
    Form(Typed),
    /// A file, streamed (`application/octet-stream` and the like).
    File,
    /// Prometheus text.
    Metrics,
    /// Server-sent events.
    EventStream,
    /// Any JSON value (this document).
    AnyJson,
}

impl Body {
    /// The schema of an operation's content, if JSON or a form.
    pub fn schema(&self) -> Option<RefOr<Schema>> {
        match self {
            Body::Json(t) | Body::Form(t) => Some(t.reference()),
            Body::OneOf(ts) => {
                let mut one_of = OneOfBuilder::new();
                for t in *ts {
                    one_of = one_of.item(t.reference());
                }
                Some(one_of.into())
            }
            _ => None,
        }
    }

    /// Adds the named schemas it uses.
    pub fn collect(&self, out: &mut Schemas) {
        match self {
            Body::Json(t) | Body::Form(t) => t.collect(out),
            Body::OneOf(ts) => ts.iter().for_each(|t| t.collect(out)),
            _ => {}
        }
    }
}

/// A JSON body of type `T`.
pub const fn json<T: ToSchema>() -> Body {
    Body::Json(Typed::of::<T>(false))
}

/// A JSON array of `T`.
pub const fn list<T: ToSchema>() -> Body {
    Body::Json(Typed::of::<T>(true))
}

/// `T`, for a [`Body::OneOf`].
pub const fn one<T: ToSchema>() -> Typed {
    Typed::of::<T>(false)
}

/// A multipart form whose fields `T` describes.
pub const fn form<T: ToSchema>() -> Body {
    Body::Form(Typed::of::<T>(false))
}
