"""Custom Great Expectations expectations for crime statistics, each run as SQL in DuckDB.

Importing this package registers them with GX, so a suite file names them by
type like any built-in one (`expect_column_values_to_equal_sum_of_columns`, ...).
"""

from audit.validate.expectations.arithmetic import (
    ExpectColumnValuesToEqualPercentChange,
    ExpectColumnValuesToEqualRate,
    ExpectColumnValuesToEqualSumOfColumns,
)
from audit.validate.expectations.base import RowCheckExpectation
from audit.validate.expectations.cells import (
    ExpectColumnValuesToBeInRange,
    ExpectColumnValuesToBeInValueSet,
    ExpectColumnValuesToBePresent,
    ExpectColumnValuesToBeSafeInSpreadsheets,
    ExpectColumnValuesToMatchPattern,
    ExpectKeyValuesNotToDifferOnlyInForm,
    ExpectPrimaryKeyToBeUnique,
)
from audit.validate.expectations.claims import ExpectClaimToBeSupported
from audit.validate.expectations.incidents import (
    ExpectColumnValuesToHaveACategory,
    ExpectCoordinatesToBeInBoundingBox,
    ExpectDatesToBeWithinCoverage,
)
from audit.validate.expectations.reconcile import (
    ExpectIncidentCountsToMatchSummary,
    ExpectTotalsToMatch,
)
from audit.validate.expectations.revisions import (
    ExpectNotesToExplainWhatTheyExpect,
    ExpectReclassificationsNotToDowngrade,
    ExpectRevisionsToBeExplained,
)
from audit.validate.expectations.series import (
    ExpectCountsToChangePlausibly,
    ExpectMonthsReportedToBeComplete,
    ExpectSeriesToHaveNoGaps,
)

__all__ = [
    "RowCheckExpectation",
    "ExpectColumnValuesToBeSafeInSpreadsheets",
    "ExpectPrimaryKeyToBeUnique",
    "ExpectKeyValuesNotToDifferOnlyInForm",
    "ExpectColumnValuesToBeInRange",
    "ExpectColumnValuesToBeInValueSet",
    "ExpectColumnValuesToMatchPattern",
    "ExpectColumnValuesToBePresent",
    "ExpectColumnValuesToEqualSumOfColumns",
    "ExpectColumnValuesToEqualRate",
    "ExpectColumnValuesToEqualPercentChange",
    "ExpectSeriesToHaveNoGaps",
    "ExpectMonthsReportedToBeComplete",
    "ExpectCountsToChangePlausibly",
    "ExpectClaimToBeSupported",
    "ExpectDatesToBeWithinCoverage",
    "ExpectCoordinatesToBeInBoundingBox",
    "ExpectColumnValuesToHaveACategory",
    "ExpectIncidentCountsToMatchSummary",
    "ExpectTotalsToMatch",
    "ExpectRevisionsToBeExplained",
    "ExpectNotesToExplainWhatTheyExpect",
    "ExpectReclassificationsNotToDowngrade",
]
