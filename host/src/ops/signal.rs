//! Shutdown on SIGINT or SIGTERM, as a future any runtime can await.

use std::future::Future;

/// Completes when the process gets SIGINT or SIGTERM (Ctrl-C on platforms without
/// signals is not watched: the future then never completes). Watching starts when this
/// is called, on a thread of its own.
pub fn shutdown() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = watch(&[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]);
    #[cfg(not(unix))]
    let signals = watch(&[]);
    async move {
        if let Ok(sig) = signals.recv().await {
            tracing::info!("signal {sig}: stopping");
        }
    }
}

/// The signals in `signals` as they arrive (unix; elsewhere nothing ever arrives), watched
/// on a thread of its own. A signal watched here no longer has its default action.
pub fn watch(signals: &[i32]) -> async_channel::Receiver<i32> {
    let (tx, rx) = async_channel::unbounded::<i32>();
    #[cfg(unix)]
    match signal_hook::iterator::Signals::new(signals) {
        Ok(mut s) => {
            let spawned = std::thread::Builder::new()
                .name("dhcp-signal-watch".into())
                .spawn(move || {
                    for sig in s.forever() {
                        if tx.send_blocking(sig).is_err() {
                            break;
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!("not watching signals {signals:?}: {e}");
            }
        }
        Err(e) => tracing::warn!("not watching signals {signals:?}: {e}"),
    }
    #[cfg(not(unix))]
    {
        let _ = signals;
        std::mem::forget(tx);
    }
    rx
}
