//! Terminal progress for pulls and layer reads; silent when stderr is not a
//! terminal or `--quiet` is given.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use portcullis_image::ImageDescriptor;
use portcullis_image::tree::Progress;

/// A spinner shown while `message` is in progress; cleared on drop.
pub struct Spinner(Option<ProgressBar>);

pub fn spinner(enabled: bool, message: &str) -> Spinner {
    if !enabled {
        return Spinner(None);
    }
    let bar = ProgressBar::new_spinner().with_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    Spinner(Some(bar))
}

impl Spinner {
    /// Replaces the text beside the spinner.
    pub fn set_message(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_owned());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// One bar per layer, counting stored bytes read.
pub struct LayerProgress {
    bars: Vec<ProgressBar>,
    _multi: Option<MultiProgress>,
}

impl LayerProgress {
    pub fn new(enabled: bool, descriptor: &ImageDescriptor) -> LayerProgress {
        if !enabled {
            return LayerProgress { bars: Vec::new(), _multi: None };
        }
        let multi = MultiProgress::new();
        let sized = ProgressStyle::with_template("{prefix:>10} {bar:30} {bytes:>10}/{total_bytes:<10} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        // Docker archives and directories do not declare layer sizes.
        let unsized_style = ProgressStyle::with_template("{prefix:>10} {spinner:<30} {bytes:>10}            {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = descriptor
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let bar = match layer.size {
                    Some(size) => multi.add(ProgressBar::new(size)).with_style(sized.clone()),
                    None => multi.add(ProgressBar::no_length()).with_style(unsized_style.clone()),
                };
                bar.set_prefix(format!("layer {index}"));
                let digest = layer.digest.as_deref().or(layer.diff_id.as_deref()).unwrap_or("");
                bar.set_message(digest.get(..19).unwrap_or(digest).to_owned());
                bar
            })
            .collect();
        LayerProgress { bars, _multi: Some(multi) }
    }

    pub fn finish(&self) {
        for bar in &self.bars {
            bar.finish_and_clear();
        }
    }
}

impl Progress for LayerProgress {
    fn layer_bytes(&self, index: usize, bytes: u64) {
        if let Some(bar) = self.bars.get(index) {
            bar.inc(bytes);
        }
    }

    fn layer_finished(&self, index: usize) {
        if let Some(bar) = self.bars.get(index) {
            bar.set_message("done");
        }
    }
}
