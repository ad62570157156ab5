"""Audio quality from network figures: the E-model R-factor and its MOS.

The full E-model is ITU-T Recommendation G.107. Network monitors use the simplified
form of R. G. Cole and J. H. Rosenbluth, "Voice over IP performance monitoring",
ACM SIGCOMM Computer Communication Review 31(2), April 2001, which keeps G.107's
default terms (R0 - Is = 93.2) and reduces the delay and loss impairments to
straight lines. As used by VoIP monitoring tools:

    effective latency  Le = latency + 2 * jitter + 10            (all in ms)
    R = 93.2 - Le / 40                  when Le < 160
    R = 93.2 - (Le - 120) / 10          otherwise
    R = R - 2.5 * loss                                            (loss in percent)

`latency` is the one-way delay: half the round-trip time. The 2 * jitter term stands
for the receiver's jitter buffer and the 10 ms for codec delay. R is then turned into
a mean opinion score with G.107's formula (Annex B):

    MOS = 1                                             when R < 0
    MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)       when 0 <= R <= 100
                                              (never below 1: it dips under for R < 6.5)
    MOS = 4.5                                           when R > 100

Worked values: 100 ms latency, 10 ms jitter, 1 % loss give R = 87.45, MOS = 4.27;
300 ms, 30 ms, 3 % give R = 60.7, MOS = 3.14.
"""

from __future__ import annotations

R_DEFAULT = 93.2
"""G.107's R0 - Is with default parameters."""
CODEC_DELAY_MS = 10.0
LOSS_PENALTY_PER_PERCENT = 2.5


def effective_latency_ms(latency_ms: float, jitter_ms: float) -> float:
    return latency_ms + 2 * jitter_ms + CODEC_DELAY_MS


def r_factor(latency_ms: float, jitter_ms: float, loss_percent: float) -> float:
    """R (0..93.2) for a one-way latency, a jitter (ms) and a packet loss (percent)."""
    if latency_ms < 0 or jitter_ms < 0 or not 0 <= loss_percent <= 100:
        raise ValueError("latency and jitter must not be negative; loss is a percentage")
    effective = effective_latency_ms(latency_ms, jitter_ms)
    if effective < 160:
        r = R_DEFAULT - effective / 40
    else:
        r = R_DEFAULT - (effective - 120) / 10
    r -= LOSS_PENALTY_PER_PERCENT * loss_percent
    return max(0.0, r)


def mos(r: float) -> float:
    """G.107's mapping of R to a mean opinion score, 1.0 to 4.5."""
    if r < 0:
        return 1.0
    if r > 100:
        return 4.5
    return max(1.0, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r))


def audio_mos(rtt_ms: float | None, jitter_ms: float, loss_percent: float) -> float:
    """MOS of an audio stream from its round trip (one way is half of it), jitter and loss.

    Without a known round trip, the latency term is left out (taken as 0 ms).
    """
    latency = 0.0 if rtt_ms is None else max(0.0, rtt_ms) / 2
    loss = min(100.0, max(0.0, loss_percent))
    return mos(r_factor(latency, max(0.0, jitter_ms), loss))
