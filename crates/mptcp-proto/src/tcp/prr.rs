//! Proportional Rate Reduction (RFC 6937): how much may be sent during fast recovery.
//!
//! The congestion controller cuts its window to `ssthresh` the moment recovery starts. Sending
//! `cwnd − pipe` after that either stalls (pipe is still above the new window, RFC 6675) or
//! bursts: when many segments are marked lost at once, `pipe` falls far below the window and
//! the whole difference would leave back to back, into the queue that just overflowed. PRR
//! instead spreads the reduction over the round trip of recovery (RFC 6937 §3):
//!
//! - while `pipe > ssthresh`, each ACK lets out data in proportion to what it delivered, so
//!   that by the end of recovery `ssthresh / RecoverFS` of everything delivered has been
//!   sent (the proportional part);
//! - once `pipe ≤ ssthresh` (more was lost than the reduction takes), the flight grows back
//!   towards `ssthresh` no faster than slow start: at most what the ACK delivered plus one
//!   segment (the slow-start reduction bound, PRR-SSRB).
//!
//! The engine calls [`Prr::on_ack`] for each ACK during recovery that delivered data (an ACK
//! that delivers nothing changes nothing, as in Linux), [`Prr::on_sent`] for every data or
//! retransmitted byte sent during recovery, and sends at most [`Prr::allowance`].

/// The PRR state of one fast recovery (RFC 6937 §3 "Algorithm").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prr {
    /// RecoverFS: the bytes that could still be delivered when recovery started.
    ///
    /// RFC 6937 §3 takes FlightSize (SND.NXT − SND.UNA). Bytes SACKed before recovery were
    /// delivered already and are never counted in `prr_delivered`; with large send buffers
    /// they can be most of FlightSize, which would hold the proportional part far below its
    /// target. They are left out, as the RFC's revision (RFC 9937) leaves them out too.
    recover_fs: usize,
    /// prr_delivered: bytes delivered to the receiver (cumulatively or by SACK) since
    /// recovery started.
    delivered: usize,
    /// prr_out: bytes sent (new data and retransmissions) since recovery started.
    out: usize,
    /// What may still be sent in response to the last ACK (its `sndcnt`, less what has been
    /// sent since).
    allowance: usize,
}

impl Prr {
    /// RFC 6937 §3 "On entering recovery": `prr_delivered = prr_out = 0`; `recover_fs` is
    /// what could still be delivered (outstanding bytes not SACKed).
    pub(crate) fn new(recover_fs: usize) -> Self {
        Prr {
            recover_fs: recover_fs.max(1),
            delivered: 0,
            out: 0,
            allowance: 0,
        }
    }

    /// The ACK that started recovery delivered `bytes`: they were part of the flight when
    /// the losses it revealed happened, and they count in `prr_delivered`.
    pub(crate) fn add_to_recover_fs(&mut self, bytes: usize) {
        self.recover_fs += bytes;
    }

    /// RFC 6937 §3 "On every ACK during recovery": `delivered_data` bytes were newly delivered
    /// (SND.UNA advanced plus newly SACKed), leaving `pipe` (RFC 6675) bytes in flight;
    /// `ssthresh` is the window recovery ends at. Sets the allowance to `sndcnt`.
    pub(crate) fn on_ack(
        &mut self,
        delivered_data: usize,
        pipe: usize,
        ssthresh: usize,
        mss: usize,
    ) {
        if delivered_data == 0 {
            return;
        }
        self.delivered += delivered_data;
        self.allowance = if pipe > ssthresh {
            // Proportional Rate Reduction: CEIL(prr_delivered · ssthresh / RecoverFS) − prr_out.
            let target =
                (self.delivered as u128 * ssthresh as u128).div_ceil(self.recover_fs as u128);
            usize::try_from(target)
                .unwrap_or(usize::MAX)
                .saturating_sub(self.out)
        } else {
            // PRR-SSRB: catch up towards ssthresh, by at most what this ACK delivered (or what
            // earlier ACKs delivered and was not sent) plus one segment.
            let limit = self.delivered.saturating_sub(self.out).max(delivered_data) + mss;
            (ssthresh - pipe).min(limit)
        };
    }

    /// RFC 6937 §3 "On any data transmission or retransmission": `prr_out += data sent`.
    pub(crate) fn on_sent(&mut self, bytes: usize) {
        self.out += bytes;
        self.allowance = self.allowance.saturating_sub(bytes);
    }

    /// Bytes that may be sent now (`sndcnt` of the last ACK, less what went out since).
    pub(crate) fn allowance(&self) -> usize {
        self.allowance
    }

    /// prr_delivered.
    #[cfg(test)]
    pub(crate) fn delivered(&self) -> usize {
        self.delivered
    }

    /// prr_out.
    #[cfg(test)]
    pub(crate) fn out(&self) -> usize {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 1000;

    /// Sends whole segments while the allowance holds one, as the engine does, returning
    /// how many went.
    fn send(prr: &mut Prr) -> usize {
        let mut n = 0;
        while prr.allowance() >= MSS {
            prr.on_sent(MSS);
            n += 1;
        }
        n
    }

    /// The RFC's first example: a window of 20 segments, one lost, ssthresh 10. Each of the
    /// 19 ACKs that follow delivers one segment; PRR sends one segment for every other ACK
    /// (the fast retransmission counting as the first), so the flight comes down smoothly
    /// to ssthresh instead of pausing for half a round trip and then resuming at once.
    #[test]
    fn one_loss_sends_on_every_other_ack() {
        let mut prr = Prr::new(20 * MSS);
        // The fast retransmission of the lost segment goes at the start of recovery.
        prr.on_sent(MSS);
        // 19 segments not lost, plus the retransmission.
        let mut pipe = 20 * MSS;
        let mut sent = Vec::new();
        for _ in 0..19 {
            pipe -= MSS;
            prr.on_ack(MSS, pipe, 10 * MSS, MSS);
            let n = send(&mut prr);
            pipe += n * MSS;
            sent.push(n);
        }
        // CEIL(k · 10 / 20) − prr_out bytes, the retransmission included, while pipe is
        // above ssthresh: a segment each time half of two more has been delivered. From the
        // 16th ACK pipe is down to ssthresh and PRR-SSRB holds it there, one for one.
        assert_eq!(
            sent,
            [0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1]
        );
        assert_eq!(prr.delivered(), 19 * MSS);
        assert_eq!(prr.out(), 10 * MSS);
        // The flight ends at ssthresh.
        assert_eq!(pipe, 10 * MSS);
    }

    /// The RFC's second example in kind: the same window with many losses. Once pipe is at or
    /// below ssthresh, PRR-SSRB sends what each ACK delivered plus at most one segment,
    /// never the whole difference at once.
    #[test]
    fn pipe_below_ssthresh_grows_no_faster_than_slow_start() {
        let mut prr = Prr::new(20 * MSS);
        prr.on_sent(MSS);
        // Losses marked at once leave only 5 segments in flight (with the retransmission).
        let mut pipe = 5 * MSS;
        let mut sent = Vec::new();
        for _ in 0..5 {
            pipe -= MSS;
            prr.on_ack(MSS, pipe, 10 * MSS, MSS);
            assert!(prr.allowance() <= 2 * MSS, "a burst: {}", prr.allowance());
            let n = send(&mut prr);
            pipe += n * MSS;
            sent.push(n);
        }
        // One delivered segment, plus one: the flight grows by one segment per ACK until it
        // reaches ssthresh.
        assert_eq!(sent, [2, 2, 2, 2, 2]);
        assert_eq!(pipe, 10 * MSS);
        // At ssthresh, one out per one delivered.
        prr.on_ack(MSS, pipe - MSS, 10 * MSS, MSS);
        assert_eq!(send(&mut prr), 1);
    }

    /// PRR-SSRB with delayed ACKs (two segments each): two plus one per ACK, never more than
    /// ssthresh − pipe.
    #[test]
    fn ssrb_allows_delivered_plus_one_segment() {
        let mut prr = Prr::new(40 * MSS);
        prr.on_ack(2 * MSS, 4 * MSS, 20 * MSS, MSS);
        assert_eq!(prr.allowance(), 3 * MSS);
        prr.on_sent(MSS);
        assert_eq!(prr.allowance(), 2 * MSS);
        // A pure duplicate ACK delivers nothing and changes nothing.
        prr.on_ack(0, 0, 20 * MSS, MSS);
        assert_eq!(prr.allowance(), 2 * MSS);
        // Never above ssthresh − pipe.
        prr.on_ack(5 * MSS, 19 * MSS, 20 * MSS, MSS);
        assert_eq!(prr.allowance(), MSS);
    }

    /// The proportional part banks what an ACK's share could not send (less than a
    /// segment) and lets it out on a later ACK.
    #[test]
    fn proportional_part_accumulates_fractions() {
        // ssthresh / RecoverFS = 0.7, as CUBIC's β.
        let mut prr = Prr::new(100 * MSS);
        let mut pipe = 99 * MSS;
        let mut total = 0;
        for _ in 0..60 {
            pipe -= MSS;
            prr.on_ack(MSS, pipe, 70 * MSS, MSS);
            let n = send(&mut prr);
            pipe += n * MSS;
            total += n;
        }
        // CEIL(60 · 0.7) = 42 segments for 60 delivered.
        assert_eq!(total, 42);
        assert_eq!(prr.out(), 42 * MSS);
    }
}
