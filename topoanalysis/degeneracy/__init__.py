"""Degenerate parametrizations and inverse stability (Berner, Elbrächter & Grohs).

- :mod:`~topoanalysis.degeneracy.detect`: detectors of the degeneracies (neurons, tolerance);
- :mod:`~topoanalysis.degeneracy.conditions`: C.1–C.3 as SymPy predicates and numeric checks,
  membership in the restricted space;
- :mod:`~topoanalysis.degeneracy.conditions_unrestricted`: Theorem 3.1's conditions (C.1, C.2,
  C.3a/C.3b) for an unrestricted ``Γ``, decided exactly, C.3 as an existence question;
- :mod:`~topoanalysis.degeneracy.canonical`: the canonical form modulo the symmetries, each
  step checked (numerically, and exactly with SymPy);
- :mod:`~topoanalysis.degeneracy.distance`: the exact ``W^{1,∞}`` semi-norm from the hyperplane
  arrangement and the uniform distance on a box or ball;
- :mod:`~topoanalysis.degeneracy.stability`: parameter distance modulo the symmetries, the
  inverse-stability ratio, the counterexample families, measured exponents;
- :mod:`~topoanalysis.degeneracy.theory`: the constants of the statements (Theorem 3.3's
  ``s``) measured beside the exponents;
- :mod:`~topoanalysis.degeneracy.optimization`: Proposition 1.2 and Example A.1 (local minima
  in parameter space vs realization space), exact certificates and seeded probes;
- :mod:`~topoanalysis.degeneracy.uniform_stability`: Section A.4, uniform-norm inverse stability
  against the smallest angle between hyperplanes;
- :mod:`~topoanalysis.degeneracy.report`: the summary used by ``topoanalysis stability`` and
  ``topoanalysis analyze``.

Certificates: parallel/coinciding hyperplanes, redundant, opposite, zero and dead neurons and
linear independence are decided in rational arithmetic from the float parameters (``_exact``);
``exact=True`` is a proof, otherwise results carry certified ``lower``/``upper`` bounds, and a
user tolerance (``merge_tol``) is a reported modelling choice. See
``docs/guide/certificates_degeneracy.md``.
"""

from ._form import ShallowForm, augment_inputs, shallow_form
from .canonical import CanonicalForm, canonical_form, canonical_form_symbolic
from .conditions import (Membership, SymbolicConditions, restricted_space_membership,
                         symbolic_conditions, symbolic_realization)
from .conditions_unrestricted import Theorem31Conditions, theorem_3_1_conditions
from .detect import DEFAULT_TOLERANCES, Degeneracy, DegeneracyReport, detect_degeneracies
from .distance import (Ball, Box, SobolevDistance, UniformDistance, linear_regions,
                       sobolev_distance, sobolev_seminorm, uniform_distance)
from .report import NetworkStability, network_stability, stability_of_networks
from .stability import (FAMILIES, RESTRICTED_KINDS, FamilyMeasurement, ParameterDistance,
                        StabilityMeasurement, counterexample, fit_exponent, inverse_stability,
                        measure_family, measure_restricted, parameter_distance, restricted_pair)
from .optimization import (ExampleA1, LocalMinimumProbe, RealizationProbe,
                           RestrictedRepresentative, ZeroOutputCertificate,
                           almost_optimality_bound, certify_zero_output_minimum, example_a1,
                           exact_mse, probe_local_minimum, probe_realizations,
                           realization_radius, restricted_representative)
from .uniform_stability import (AngleMeasurement, measure_angle_bins, measure_family_angles,
                                measure_wedge, smallest_hyperplane_angle, wedge_pair)
from .theory import (MATCHED_CASE_CONSTANT, THEOREM_3_3_CONSTANT, THEOREM_3_3_EXPONENT,
                     AdversarialConstant, matched_case_counterexample,
                     ConstantEstimate, adversarial_constant, flipped_pair, measure_flipped,
                     search_constant, stability_constant)

__all__ = [
    "ShallowForm", "shallow_form", "augment_inputs",
    "CanonicalForm", "canonical_form", "canonical_form_symbolic",
    "Membership", "SymbolicConditions", "restricted_space_membership", "symbolic_conditions",
    "symbolic_realization", "Theorem31Conditions", "theorem_3_1_conditions",
    "Degeneracy", "DegeneracyReport", "detect_degeneracies", "DEFAULT_TOLERANCES",
    "Box", "Ball", "SobolevDistance", "UniformDistance", "sobolev_distance", "sobolev_seminorm",
    "uniform_distance", "linear_regions",
    "NetworkStability", "network_stability", "stability_of_networks",
    "ParameterDistance", "parameter_distance", "StabilityMeasurement", "inverse_stability",
    "FAMILIES", "RESTRICTED_KINDS", "counterexample", "FamilyMeasurement", "measure_family",
    "measure_restricted", "restricted_pair", "fit_exponent",
    "THEOREM_3_3_CONSTANT", "MATCHED_CASE_CONSTANT", "THEOREM_3_3_EXPONENT", "ConstantEstimate", "stability_constant",
    "flipped_pair", "measure_flipped", "search_constant", "AdversarialConstant",
    "adversarial_constant", "matched_case_counterexample",
    "realization_radius", "ZeroOutputCertificate", "certify_zero_output_minimum", "ExampleA1",
    "example_a1", "exact_mse", "LocalMinimumProbe", "probe_local_minimum", "RealizationProbe",
    "probe_realizations", "almost_optimality_bound", "RestrictedRepresentative",
    "restricted_representative", "AngleMeasurement", "smallest_hyperplane_angle",
    "wedge_pair", "measure_wedge", "measure_angle_bins", "measure_family_angles",
]
