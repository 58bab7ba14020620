// SPDX-License-Identifier: GPL-2.0

//! A kernel thread bound to a CPU for the KUnit tests of the BPF modules: the other side of a
//! race.

use crate::{
    bindings,
    cpu::CpuId,
    cpumask::Cpumask,
    error::from_err_ptr,
    prelude::*,
    sync::Completion,
    time::{
        delay::fsleep,
        Delta, //
    },
};
use core::cell::UnsafeCell;

/// Returns an online CPU other than the current one, if there is one.
pub(crate) fn other_online_cpu() -> Option<CpuId> {
    two_online_cpus().map(|[_, other]| other)
}

/// Returns the current CPU and another online one, if there is one, for two [`PinnedThread`]s.
///
/// The caller may migrate at any time, so the pair comes from one read of the current CPU: two
/// reads (one here, one in the caller) could name the same CPU twice.
pub(crate) fn two_online_cpus() -> Option<[CpuId; 2]> {
    let this = CpuId::current();
    // SAFETY: `__cpu_online_mask` is a static `struct cpumask`, valid forever.
    let online = unsafe { Cpumask::from_raw(&raw const bindings::__cpu_online_mask) };
    (0..crate::cpu::nr_cpu_ids())
        .filter(|&cpu| cpu != this.as_u32())
        .filter_map(CpuId::from_u32)
        .find(|&cpu| online.test(cpu))
        .map(|other| [this, other])
}

/// What a [`PinnedThread`] shares with its kernel thread.
#[pin_data]
struct ThreadCtx<F> {
    /// The closure to run; taken by the thread.
    f: UnsafeCell<Option<F>>,
    /// Completed once the closure has returned.
    #[pin]
    done: Completion,
}

/// A kernel thread bound to one CPU that runs one closure; dropping it waits for the closure
/// and stops the thread.
///
/// # Invariants
///
/// `task` is a kernel thread running [`PinnedThread::run`] on `ctx`, with a reference to its
/// `task_struct` held by us.
pub(crate) struct PinnedThread<F: FnOnce() + Send> {
    task: *mut bindings::task_struct,
    ctx: Pin<KBox<ThreadCtx<F>>>,
}

impl<F: FnOnce() + Send> PinnedThread<F> {
    pub(crate) fn spawn(cpu: CpuId, f: F) -> Result<Self> {
        let ctx = KBox::pin_init(
            pin_init!(ThreadCtx {
                f: UnsafeCell::new(Some(f)),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        let data = core::ptr::from_ref::<ThreadCtx<F>>(&ctx).cast_mut().cast();
        // SAFETY: `run::<F>` takes `data` as the `ThreadCtx<F>` it is, which `Self` keeps alive
        // until the thread is stopped; the name format has one `%u`, for the CPU.
        let task = from_err_ptr(unsafe {
            bindings::kthread_create_on_cpu(
                Some(Self::run),
                data,
                cpu.as_u32(),
                c"bpf_kunit/%u".as_char_ptr(),
            )
        })?;
        // SAFETY: `task` is a valid, new kernel thread. The reference keeps its `task_struct`
        // until `kthread_stop_put()`, however the thread ends.
        unsafe { bindings::get_task_struct(task) };
        // SAFETY: As above; the thread starts running `run`.
        unsafe { bindings::wake_up_process(task) };
        // INVARIANT: `task` runs `run` on `ctx`, and we hold a reference to it.
        Ok(Self { task, ctx })
    }

    /// The body of the thread: runs the closure, then waits to be stopped.
    ///
    /// # Safety
    ///
    /// `data` points to the `ThreadCtx<F>` of a [`PinnedThread`] whose closure was not taken.
    unsafe extern "C" fn run(data: *mut c_void) -> c_int {
        // SAFETY: By the safety requirements `data` is a `ThreadCtx<F>`, which the
        // `PinnedThread` keeps alive until this thread has been stopped.
        let ctx = unsafe { &*data.cast::<ThreadCtx<F>>() };
        // SAFETY: Only this thread accesses `f`, once.
        if let Some(f) = unsafe { (*ctx.f.get()).take() } {
            f();
        }
        ctx.done.complete_all();
        // The owner stops us only after `done`, so `kthread_stop()` cannot come before the
        // closure ran (it would skip the thread function altogether).
        // SAFETY: We are a kernel thread.
        while !unsafe { bindings::kthread_should_stop() } {
            fsleep(Delta::from_millis(1));
        }
        0
    }
}

impl<F: FnOnce() + Send> Drop for PinnedThread<F> {
    fn drop(&mut self) {
        self.ctx.done.wait_for_completion();
        // SAFETY: By the type invariant `task` is our kernel thread and we hold a reference to
        // it, which this drops.
        unsafe { bindings::kthread_stop_put(self.task) };
    }
}
