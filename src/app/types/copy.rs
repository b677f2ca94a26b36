//! What the copy menu can copy, and the clipboard routes known to carry a copy. A leaf.

/// An entry of the copy menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CopyWhat {
    Id,
    VideoUrl,
    FrameUrl,
    /// The saved video and last-frame paths.
    Paths,
    /// The `s3://BUCKET/KEY` of the video saved in a bucket.
    ObjectUrl,
    /// A presigned link (1 hour) to the video saved in a bucket, for a browser.
    PresignedLink,
    /// The stored request body, pretty-printed.
    Request,
    Curl,
}

/// A clipboard route known to have carried a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyRoute {
    /// tmux's paste buffer (`load-buffer -w` also offers it to the outer terminal).
    TmuxBuffer,
    /// OSC 52 to a terminal known to take it.
    Terminal,
}

impl CopyRoute {
    pub(crate) fn label(self) -> &'static str {
        match self {
            CopyRoute::TmuxBuffer => "to tmux's buffer",
            CopyRoute::Terminal => "to the terminal's clipboard",
        }
    }
}
