#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
//! tlsrec: a TLS record layer with OpenSSL's exact semantics.

pub mod alert;
pub mod cipher;
pub mod decode;
pub mod deframer;
pub mod error;
pub mod follow;
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod keylog;
pub mod keys;
pub mod reader;
pub mod record;
#[cfg(feature = "cli")]
pub mod replay;
pub mod session;
#[cfg(feature = "cli")]
pub mod transcript;

pub use alert::{AlertDescription, AlertLevel};
pub use cipher::{AeadAlgorithm, CipherSuite, HashAlgorithm, Opener, Sealer};
pub use deframer::{Deframer, HeaderPolicy};
pub use error::{Error, Initiator, Reason};
pub use keys::{RecordKeys, Secret};
pub use reader::RecordReader;
pub use record::{ContentType, Header, OpaqueRecord, PlainRecord, ProtocolVersion, Version};
pub use session::{Config, Established, Session, SslError};
