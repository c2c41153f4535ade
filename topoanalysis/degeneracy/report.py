"""One network's (or a stack's) degeneracies, conditions and canonical form, for the CLI and
``analyze``."""

import dataclasses

from .canonical import canonical_form
from .conditions import restricted_space_membership
from .detect import detect_degeneracies

__all__ = ["NetworkStability", "network_stability", "StabilityOfNetworks",
           "stability_of_networks"]


@dataclasses.dataclass(frozen=True)
class NetworkStability:
    """Degeneracies, C.1–C.3 and the canonical form of one network."""

    degeneracies: object
    membership: object
    canonical: object

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return "\n".join([self.degeneracies.summary(), "conditions: " + self.membership.summary(),
                          self.canonical.summary()])

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"degeneracies": self.degeneracies.to_dict(),
                "conditions": self.membership.to_dict(), "canonical": self.canonical.to_dict()}


def network_stability(net, *, X=None, domain=None, augment="c3", tolerances=None, tol=1e-9):
    """Detect degeneracies (dead on ``X``/``domain``), check C.1–C.3, build the canonical form.

    ``tol`` is the numeric tolerance of C.1/C.3 and of the canonical form's step checks; the
    combinatorial decisions (zero, redundant, opposite, dead neurons, C.2, the canonical
    merges) are exact (see ``docs/guide/certificates_degeneracy.md``).

    Parameters
    ----------
    net : Network
        A shallow ReLU network.
    X : array_like of shape (N, d), optional
        Data on which a neuron is dead when its pre-activation is ``≤ 0`` at every row
        (also the data of the canonical form's checks).
    domain : Box or Ball, optional
        Domain ``Ω`` on which a neuron is dead when ``max_Ω ⟨w, x⟩ + b ≤ 0`` (exact).
    augment : {"c3", "bias", "none"}, default="c3"
        Augmentation of the canonical form (:func:`~topoanalysis.degeneracy.canonical_form`).
    tolerances : dict, optional
        Overrides of the detection tolerances (:func:`~topoanalysis.degeneracy.detect_degeneracies`).
    tol : float, default=1e-9
        Numeric tolerance of C.1/C.3 and of the canonical form's step checks.

    Returns
    -------
    NetworkStability
        ``degeneracies``, ``membership`` (C.1–C.3) and ``canonical``.

    See Also
    --------
    topoanalysis.degeneracy.detect_degeneracies, topoanalysis.degeneracy.restricted_space_membership,
    topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2 (the
           four degeneracies), conditions C.1–C.3 and Lemma A.3.
    """
    return NetworkStability(
        degeneracies=detect_degeneracies(net, X=X, domain=domain, tolerances=tolerances),
        membership=restricted_space_membership(net, tol=tol),
        canonical=canonical_form(net, augment=augment, tol=tol, X=X))


@dataclasses.dataclass(frozen=True)
class StabilityOfNetworks:
    """Per-network degeneracy counts and canonical widths (the ``analyze`` section).

    ``counts`` has every finding of each kind, ``exact_counts`` those decided exactly (in
    rationals: e.g. exactly against nearly coinciding hyperplanes); the summary says which.
    """

    labels: list
    counts: list
    widths: list
    canonical_widths: list
    in_restricted_space: list
    verified: list
    output_bias_neuron: list = dataclasses.field(default_factory=list)
    exact_counts: list = dataclasses.field(default_factory=list)

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        kinds = sorted({k for c in self.counts for k, v in c.items() if v})
        lines = ["Degeneracies (Berner et al.) and canonical forms modulo permutation, rescaling "
                 "and redundancy:"]
        obn = self.output_bias_neuron or [False] * len(self.labels)
        exc = self.exact_counts or [{} for _ in self.labels]

        def count(k, c, e):
            n = e.get(k, 0)
            return f"{k} {c[k]}" + ("" if n == 0 else " (exact)" if n == c[k] else
                                    f" ({n} exact)")

        for lab, c, w, cw, ok, ob, e in zip(self.labels, self.counts, self.widths,
                                            self.canonical_widths, self.verified, obn, exc):
            found = ", ".join(count(k, c, e) for k in kinds if c[k]) or "none"
            cw_txt = f"{cw - 1} + 1 (output bias)" if ob else f"{cw}"
            lines.append(f"  {lab:>14s}: width {w} -> canonical {cw_txt}"
                         f"{'' if ok else ' (check FAILED)'}; {found}")
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"labels": self.labels, "counts": self.counts, "widths": self.widths,
                "canonical_widths": self.canonical_widths,
                "in_restricted_space": self.in_restricted_space, "verified": self.verified,
                "output_bias_neuron": self.output_bias_neuron, "exact_counts": self.exact_counts}


def stability_of_networks(nets, labels=None, *, X=None, tolerances=None):
    """Degeneracies and canonical widths of several networks (e.g. ``analyze``'s trained ones).

    Parameters
    ----------
    nets : sequence of Network
        Shallow ReLU networks.
    labels : sequence of str, optional
        One label per network (default ``"network i"``).
    X : array_like, optional
        Data on which dead neurons are detected (and the canonical-form checks run).
    tolerances : dict, optional
        Detector tolerances (default :data:`DEFAULT_TOLERANCES`).

    Returns
    -------
    StabilityOfNetworks
        One row per network: degeneracies and canonical width.

    See Also
    --------
    network_stability

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2
           (degeneracies) and the restricted space C.1–C.3.
    """
    from ..exceptions import ValidationError

    try:
        nets = list(nets)
    except TypeError:
        raise ValidationError(f"`nets` must be a sequence of Networks; got "
                              f"{type(nets).__name__}.") from None
    if labels is None:
        labels = [f"network {i}" for i in range(len(nets))]
    elif isinstance(labels, str) or not hasattr(labels, "__len__") or len(labels) != len(
            nets) or not all(isinstance(t, str) for t in labels):
        raise ValidationError(f"`labels` must be a sequence of {len(nets)} strings (one per "
                              f"network); got {labels!r:.80}.")
    labels = list(labels)
    res = [network_stability(n, X=X, tolerances=tolerances) for n in nets]
    return StabilityOfNetworks(
        labels=labels, counts=[r.degeneracies.counts for r in res],
        exact_counts=[{k: len(r.degeneracies.of_kind(k, exact=True))
                       for k in r.degeneracies.counts} for r in res],
        widths=[int(n.arch.hidden[0]) for n in nets],
        canonical_widths=[int(r.canonical.width) for r in res],
        in_restricted_space=[bool(r.membership.in_restricted_space) for r in res],
        verified=[bool(r.canonical.verified) for r in res],
        output_bias_neuron=[bool(r.canonical.output_bias_neuron >= 0) for r in res])
