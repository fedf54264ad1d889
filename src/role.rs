//! Which side of a connection an endpoint is.

/// The side of the connection a [`Session`](crate::Session) plays: the one
/// that sends the ClientHello, or the one that answers it. Every role-aware
/// API of the crate takes this one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the ClientHello.
    Client,
    /// Answers it.
    Server,
}

impl Role {
    /// The other side.
    #[must_use]
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}
