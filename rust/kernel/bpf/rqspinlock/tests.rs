// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of [`RqSpinLock`] and [`RqSpinLockIrqSave`], and of the slow path behind them.
//!
//! They run with whichever slow path is built (Rust with `CONFIG_BPF_RQSPINLOCK_RUST`, C
//! otherwise) and on whichever path the machine takes: x86 guests that see a hypervisor but no
//! paravirt spinlocks enable `virt_spin_lock_key`, which sends every contended acquisition to the
//! test-and-set fallback (1 s timeout) instead of the queue (250 ms as the pending waiter). The
//! tests log the path and derive their expectations from it.
//!
//! The contended cases need two online CPUs: they run each side in a kernel thread bound to its
//! own CPU (the KUnit thread may migrate, so it takes no side).

use super::contended_path_is_tas;
use crate::{
    bindings,
    bpf::test_thread::{
        two_online_cpus,
        PinnedThread, //
    },
    cpu::CpuId,
    prelude::*,
    processor::cpu_relax,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Full,
            Relaxed,
            Release, //
        },
        lock::Lock,
        Arc,
        RqSpinLock,
        RqSpinLockGuard,
        RqSpinLockIrqSave,
        RqSpinLockIrqSaveGuard, //
    },
    time::{
        delay::fsleep,
        Delta,
        Instant,
        Monotonic, //
    },
    types::Opaque,
};

/// `RES_NR_HELD`: the number of entries of the per-CPU table of held locks.
const RES_NR_HELD: usize = bindings::RES_NR_HELD as usize;

/// The timeout of a contended acquisition that waits for an owner which does not let go.
fn owner_timeout() -> Delta {
    if contended_path_is_tas() {
        Delta::from_secs(1)
    } else {
        // `RES_DEF_TIMEOUT`, as the pending waiter.
        Delta::from_nanos(i64::from(bindings::RES_DEF_TIMEOUT))
    }
}

/// The state that every acquisition attempt must leave as it found it when it fails.
#[derive(Clone, Copy, PartialEq, Eq)]
struct CpuState {
    preempt_count: i32,
    irqs_disabled: bool,
}

impl CpuState {
    fn now() -> Self {
        Self {
            // SAFETY: Reads the current task's preemption count.
            preempt_count: unsafe { bindings::preempt_count() },
            // SAFETY: Reads the local interrupt state.
            irqs_disabled: unsafe { bindings::irqs_disabled() },
        }
    }
}

/// Times `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Delta) {
    let start = Instant::<Monotonic>::now();
    let ret = f();
    (ret, start.elapsed())
}

/// Spins (without sleeping: the caller may hold a lock) until `cond` or `limit` elapses.
fn spin_until(limit: Delta, cond: impl Fn() -> bool) -> bool {
    let start = Instant::<Monotonic>::now();
    while !cond() {
        if start.elapsed() > limit {
            return false;
        }
        cpu_relax();
    }
    true
}

/// The errno of an acquisition, 0 on success.
fn errno<T>(ret: &Result<T>) -> i32 {
    ret.as_ref().map_or_else(|e| e.to_errno(), |_| 0)
}

/// One `rqspinlock_t`, taken through either backend: [`RqSpinLock`] or [`RqSpinLockIrqSave`].
///
/// # Invariants
///
/// `raw` is initialised.
#[pin_data]
struct TestLock {
    #[pin]
    raw: Opaque<bindings::rqspinlock_t>,
}

// SAFETY: The lock word is only accessed through the rqspinlock API, which any CPU may call.
unsafe impl Send for TestLock {}

// SAFETY: As for `Send`: every operation on the lock word is atomic.
unsafe impl Sync for TestLock {}

impl TestLock {
    fn new() -> impl PinInit<Self> {
        // INVARIANT: `raw_res_spin_lock_init()` initialises the lock.
        pin_init!(Self {
            raw <- Opaque::ffi_init(|slot| {
                // SAFETY: `slot` is valid for writes for the duration of this closure.
                unsafe { bindings::raw_res_spin_lock_init(slot) }
            }),
        })
    }

    fn lock(&self) -> Result<RqSpinLockGuard<'_, ()>> {
        // SAFETY: By the type invariant the lock is initialised; it lives as long as `self` and
        // is only taken through the two rqspinlock backends.
        let lock: &RqSpinLock<()> = unsafe { Lock::from_raw(self.raw.get()) };
        lock.lock()
    }

    fn lock_irqsave(&self) -> Result<RqSpinLockIrqSaveGuard<'_, ()>> {
        // SAFETY: As in `lock()`.
        let lock: &RqSpinLockIrqSave<()> = unsafe { Lock::from_raw(self.raw.get()) };
        lock.lock()
    }
}

/// Two locks taken in opposite orders on two CPUs, and what each side saw.
#[pin_data]
struct Abba {
    #[pin]
    locks: [TestLock; 2],
    arrived: Atomic<i32>,
    ready: Atomic<i32>,
    met: [Atomic<i32>; 2],
    errno: [Atomic<i32>; 2],
    took_ns: [Atomic<i64>; 2],
}

impl Abba {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            locks <- pin_init::pin_init_array_from_fn(|_| TestLock::new()),
            arrived: Atomic::new(0),
            ready: Atomic::new(0),
            met: [Atomic::new(0), Atomic::new(0)],
            errno: [Atomic::new(1), Atomic::new(1)],
            took_ns: [Atomic::new(0), Atomic::new(0)],
        })
    }

    /// Side `i`: takes lock `i`, waits for the other side to hold the other lock, then takes it.
    fn side(&self, i: usize) {
        // Meet preemptibly first, so that the spinning below, with a lock held and preemption
        // off, only starts when both threads run; a CPU stopper that preempts one side before
        // it takes its first lock could otherwise keep it away for the whole spin.
        self.arrived.fetch_add(1, Full);
        let start = Instant::<Monotonic>::now();
        while self.arrived.load(Acquire) < 2 && start.elapsed() < Delta::from_secs(10) {
            fsleep(Delta::from_micros(100));
        }
        let (first, second) = (&self.locks[i], &self.locks[1 - i]);
        let ret = first.lock().and_then(|held| {
            self.ready.fetch_add(1, Full);
            let met = spin_until(Delta::from_secs(2), || self.ready.load(Acquire) == 2);
            self.met[i].store(i32::from(met), Relaxed);
            let (ret, took) = timed(|| second.lock().map(drop));
            self.took_ns[i].store(took.as_nanos(), Relaxed);
            drop(held);
            ret
        });
        self.errno[i].store(errno(&ret), Release);
    }

    /// Runs one round with side 0 on `cpus[0]` and side 1 on `cpus[1]`.
    fn round(cpus: [CpuId; 2]) -> Result<Arc<Self>> {
        let abba = Arc::pin_init(Self::new(), GFP_KERNEL)?;
        let (a, b) = (abba.clone(), abba.clone());
        let side0 = PinnedThread::spawn(cpus[0], move || a.side(0))?;
        let side1 = PinnedThread::spawn(cpus[1], move || b.side(1))?;
        drop((side0, side1));
        Ok(abba)
    }

    /// Whether both sides held their first lock at the same time.
    fn met(&self) -> bool {
        self.met.iter().all(|met| met.load(Relaxed) == 1)
    }
}

/// One round of the owner test: a holder thread takes `lock` when told to and keeps it until
/// told to let go, while a waiter thread on another CPU tries to take it, three ways.
///
/// Both sides are threads bound to their CPUs. The KUnit thread itself may migrate at any time,
/// so a CPU chosen as "the other one" from it can become its own: a holder bound there could
/// then not run while the waiter spins with preemption off, and every round would miss.
#[pin_data]
struct OwnerRound {
    #[pin]
    lock: TestLock,
    /// Held by the waiter for the whole round, to keep preemption off (see [`Self::wait`]).
    #[pin]
    stay: TestLock,
    /// Taken with `lock_irqsave()` by the waiter, to try `lock` with interrupts already off.
    #[pin]
    outer: TestLock,
    irqsave: bool,
    go: Atomic<i32>,
    held: Atomic<i32>,
    release: Atomic<i32>,
    /// The errnos of the waiter's attempts: plain, irqsave, irqsave with interrupts off.
    errno: [Atomic<i32>; 3],
    /// Whether each attempt left the CPU state as it found it.
    same_state: [Atomic<i32>; 3],
    /// How long the plain attempt took.
    took_ns: Atomic<i64>,
}

impl OwnerRound {
    fn new(irqsave: bool) -> impl PinInit<Self> {
        pin_init!(Self {
            lock <- TestLock::new(),
            stay <- TestLock::new(),
            outer <- TestLock::new(),
            irqsave,
            go: Atomic::new(0),
            held: Atomic::new(0),
            release: Atomic::new(0),
            errno: [Atomic::new(1), Atomic::new(1), Atomic::new(1)],
            same_state: [Atomic::new(0), Atomic::new(0), Atomic::new(0)],
            took_ns: Atomic::new(0),
        })
    }

    /// The holder's side.
    fn hold(&self) {
        fn keep(h: &OwnerRound) {
            h.held.store(1, Release);
            spin_until(Delta::from_secs(30), || h.release.load(Acquire) != 0);
        }
        let start = Instant::<Monotonic>::now();
        while self.go.load(Acquire) == 0 && start.elapsed() < Delta::from_secs(10) {
            fsleep(Delta::from_micros(100));
        }
        let ok = if self.irqsave {
            self.lock.lock_irqsave().map(|_held| keep(self))
        } else {
            self.lock.lock().map(|_held| keep(self))
        };
        if ok.is_err() {
            self.held.store(-1, Release);
        }
    }

    /// The waiter's side.
    fn wait(&self) {
        // Keep preemption off from before the holder takes the lock until it lets go: nothing
        // on this CPU (a stop_machine() for one) may then wait for the other CPU, which cannot
        // schedule while it holds the lock. The other way round, a stop_machine() that the
        // other CPU entered first waits for this one, so the wait for the holder is bounded
        // and the round then given up (seen at boot, when the clocksource changes).
        let Ok(stay) = self.stay.lock() else {
            // Nothing else holds `stay`: cannot happen, and leaves `held` at 0, a missed round.
            self.release.store(1, Release);
            return;
        };
        self.go.store(1, Release);
        spin_until(Delta::from_secs(2), || self.held.load(Acquire) != 0);
        if self.held.load(Acquire) == 1 {
            let lock = &self.lock;
            let before = CpuState::now();
            let (ret, took) = timed(|| lock.lock().map(drop));
            self.record(0, &ret, CpuState::now() == before);
            self.took_ns.store(took.as_nanos(), Relaxed);
            let ret = lock.lock_irqsave().map(drop);
            self.record(1, &ret, CpuState::now() == before);
            // With interrupts already disabled by the caller, they stay disabled.
            if let Ok(_outer) = self.outer.lock_irqsave() {
                let before = CpuState::now();
                let ret = lock.lock_irqsave().map(drop);
                self.record(2, &ret, before.irqs_disabled && CpuState::now() == before);
            }
        }
        // Also tells a holder that has not got its lock yet to let go at once when it does.
        self.release.store(1, Release);
        drop(stay);
    }

    fn record(&self, i: usize, ret: &Result, same_state: bool) {
        self.errno[i].store(errno(ret), Relaxed);
        self.same_state[i].store(i32::from(same_state), Relaxed);
    }
}

/// What the waiter saw in one run of the owner test.
struct OwnerRun {
    held: i32,
    /// The errno and CPU state check of the plain attempt, and how long it took.
    plain: (i32, Delta, bool),
    irqsave: (i32, bool),
    irqs_off_irqsave: (i32, bool),
}

impl OwnerRun {
    /// Has a thread on `cpus[0]` try to take the lock of a holder on `cpus[1]`, three ways.
    ///
    /// A round in which the holder did not get its lock in time (its CPU was busy elsewhere)
    /// proves nothing: run another, as the ABBA test does, for up to 30 s. On a loaded host a
    /// TCG vCPU can be starved for several seconds; four rounds of 2 s were seen to miss.
    fn run(cpus: [CpuId; 2], irqsave: bool) -> Result<Self> {
        let start = Instant::<Monotonic>::now();
        loop {
            let run = Self::round(cpus, irqsave)?;
            if run.held != 0 || start.elapsed() > Delta::from_secs(30) {
                return Ok(run);
            }
            pr_info!("rqspinlock: the owner did not get its lock in 2 s, another round\n");
            // Whatever kept the other CPU busy may be waiting for the waiter's, which spent the
            // round with preemption off: let it run before the next round (seen at boot, when
            // every round of 30 s missed).
            fsleep(Delta::from_millis(500));
        }
    }

    fn round(cpus: [CpuId; 2], irqsave: bool) -> Result<Self> {
        let round = Arc::pin_init(OwnerRound::new(irqsave), GFP_KERNEL)?;
        let (h, w) = (round.clone(), round.clone());
        let holder = PinnedThread::spawn(cpus[1], move || h.hold())?;
        let waiter = PinnedThread::spawn(cpus[0], move || w.wait());
        if waiter.is_err() {
            // Let the holder go, whether or not it got its lock.
            round.release.store(1, Release);
            round.go.store(1, Release);
        }
        let waiter = waiter?;
        drop((waiter, holder));
        // The lock is usable again.
        drop(round.lock.lock()?);
        let state = |i: usize| round.same_state[i].load(Relaxed) == 1;
        Ok(Self {
            held: round.held.load(Acquire),
            plain: (
                round.errno[0].load(Relaxed),
                Delta::from_nanos(round.took_ns.load(Relaxed)),
                state(0),
            ),
            irqsave: (round.errno[1].load(Relaxed), state(1)),
            irqs_off_irqsave: (round.errno[2].load(Relaxed), state(2)),
        })
    }
}

#[kunit_tests(rust_bpf_rqspinlock)]
mod cases {
    use super::*;

    #[test]
    fn lock_and_unlock() -> Result {
        let path = if contended_path_is_tas() {
            "test-and-set"
        } else {
            "queued"
        };
        pr_info!("rqspinlock: contended acquisitions take the {path} path\n");
        let lock = KBox::pin_init(TestLock::new(), GFP_KERNEL)?;
        let before = CpuState::now();
        for _ in 0..3 {
            drop(lock.lock()?);
            drop(lock.lock_irqsave()?);
        }
        assert!(CpuState::now() == before);
        Ok(())
    }

    #[test]
    fn aa_is_edeadlk_at_once() -> Result {
        let lock = KBox::pin_init(TestLock::new(), GFP_KERNEL)?;
        let guard = lock.lock()?;
        let before = CpuState::now();
        // EDEADLK rather than ETIMEDOUT: the attempt found the lock in its own table instead of
        // waiting for the deadline (the check runs before the first spin).
        assert_eq!(lock.lock().err(), Some(EDEADLK));
        assert!(CpuState::now() == before);
        assert_eq!(lock.lock_irqsave().err(), Some(EDEADLK));
        assert!(CpuState::now() == before);
        drop(guard);

        let guard = lock.lock_irqsave()?;
        let before = CpuState::now();
        assert!(before.irqs_disabled);
        assert_eq!(lock.lock_irqsave().err(), Some(EDEADLK));
        assert!(CpuState::now() == before);
        assert_eq!(lock.lock().err(), Some(EDEADLK));
        assert!(CpuState::now() == before);
        drop(guard);
        assert!(lock.lock().is_ok());
        Ok(())
    }

    #[test]
    fn more_locks_than_the_table_holds() -> Result {
        const N: usize = RES_NR_HELD + 3;
        let mut locks = KVec::with_capacity(N, GFP_KERNEL)?;
        for _ in 0..N {
            locks.push(KBox::pin_init(TestLock::new(), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        let mut guards: KVec<RqSpinLockGuard<'_, ()>> = KVec::with_capacity(N, GFP_KERNEL)?;
        for lock in &locks {
            guards.push(lock.lock()?, GFP_KERNEL)?;
        }
        let before = CpuState::now();

        // In the table: found at once.
        assert_eq!(locks[0].lock().err(), Some(EDEADLK));
        assert!(CpuState::now() == before);

        // Beyond the table: not found, so the attempt waits for itself until it times out.
        let (ret, took) = timed(|| locks[N - 1].lock().map(drop));
        pr_info!(
            "rqspinlock: a lock beyond the table: {} after {} ms\n",
            errno(&ret),
            took.as_millis()
        );
        assert_eq!(ret, Err(ETIMEDOUT));
        assert!(CpuState::now() == before);
        // Not before the deadline. How long after it depends on the host (a vCPU may be
        // descheduled), so no upper bound: the errno says the deadline ended the wait.
        assert!(took >= owner_timeout() - Delta::from_millis(10));

        // The table is a stack: release in reverse order.
        while let Some(guard) = guards.pop() {
            drop(guard);
        }
        for lock in &locks {
            drop(lock.lock()?);
        }
        Ok(())
    }

    #[test]
    fn abba_on_two_cpus_is_edeadlk() -> Result {
        let Some(cpus) = two_online_cpus() else {
            pr_err!("rqspinlock: the ABBA test needs two online CPUs\n");
            return Err(ENODEV);
        };
        // A round in which the sides did not overlap (one was kept off its CPU) proves
        // nothing: run another, for up to 30 s of rounds, as the owner test does. On a loaded
        // host a TCG vCPU can be starved for several seconds, longer than a few rounds of 2 s.
        // The 30 s only bound the retries: whether the sides met is asserted below.
        let start = Instant::<Monotonic>::now();
        let abba = loop {
            let abba = Abba::round(cpus)?;
            if abba.met() || start.elapsed() > Delta::from_secs(30) {
                break abba;
            }
            pr_info!("rqspinlock: the ABBA sides did not overlap, another round\n");
        };
        let errno = [abba.errno[0].load(Acquire), abba.errno[1].load(Acquire)];
        let took = [abba.took_ns[0].load(Relaxed), abba.took_ns[1].load(Relaxed)];
        pr_info!(
            "rqspinlock: ABBA on CPUs {} and {}: {} after {} us, {} after {} us\n",
            cpus[0].as_u32(),
            cpus[1].as_u32(),
            errno[0],
            took[0] / 1000,
            errno[1],
            took[1] / 1000
        );
        assert!(abba.met());
        let deadlk = EDEADLK.to_errno();
        // At least one side detects the deadlock and backs off; the other then gets its lock
        // or detects it too. Neither gives up for the deadline (ETIMEDOUT).
        assert!(errno[0] == deadlk || errno[1] == deadlk);
        for e in errno {
            assert!(e == 0 || e == deadlk);
        }
        Ok(())
    }

    #[test]
    fn owner_that_never_releases_times_out() -> Result {
        let Some(cpus) = two_online_cpus() else {
            pr_err!("rqspinlock: the owner test needs two online CPUs\n");
            return Err(ENODEV);
        };
        let timedout = ETIMEDOUT.to_errno();
        for irqsave in [false, true] {
            let run = OwnerRun::run(cpus, irqsave)?;
            let (ret, took, same_state) = run.plain;
            pr_info!(
                "rqspinlock: owner on CPU {} (irqsave {}), held {}: {} after {} ms, {}, {}\n",
                cpus[1].as_u32(),
                irqsave,
                run.held,
                ret,
                took.as_millis(),
                run.irqsave.0,
                run.irqs_off_irqsave.0
            );
            assert_eq!(run.held, 1);
            assert_eq!(ret, timedout);
            assert!(same_state);
            // As in `more_locks_than_the_table_holds`: not before the deadline.
            assert!(took >= owner_timeout() - Delta::from_millis(10));
            assert_eq!(run.irqsave.0, timedout);
            assert!(run.irqsave.1);
            assert_eq!(run.irqs_off_irqsave.0, timedout);
            assert!(run.irqs_off_irqsave.1);
        }
        Ok(())
    }
}
