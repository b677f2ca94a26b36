//! A `TestBackend` the test can read (as `seedance_tui::ui::buffer_text`) while the dashboard's
//! loop draws on it.

use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// ratatui's `TestBackend`, shared: the loop draws through one handle while the test reads the
/// screen through another.
#[derive(Clone)]
pub struct SharedBackend(pub Arc<Mutex<TestBackend>>);

impl SharedBackend {
    pub fn new(width: u16, height: u16) -> SharedBackend {
        SharedBackend(Arc::new(Mutex::new(TestBackend::new(width, height))))
    }

    /// What the screen shows now.
    pub fn text(&self) -> String {
        seedance_tui::ui::buffer_text(self.0.lock().expect("backend").buffer())
    }
}

impl Backend for SharedBackend {
    type Error = Infallible;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Infallible>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.0.lock().expect("backend").draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Infallible> {
        self.0.lock().expect("backend").hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Infallible> {
        self.0.lock().expect("backend").show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Infallible> {
        self.0.lock().expect("backend").get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, p: P) -> Result<(), Infallible> {
        self.0.lock().expect("backend").set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Infallible> {
        self.0.lock().expect("backend").clear()
    }
    fn clear_region(&mut self, t: ClearType) -> Result<(), Infallible> {
        self.0.lock().expect("backend").clear_region(t)
    }
    fn size(&self) -> Result<Size, Infallible> {
        self.0.lock().expect("backend").size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Infallible> {
        self.0.lock().expect("backend").window_size()
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        self.0.lock().expect("backend").flush()
    }
}
