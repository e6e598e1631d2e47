"""One import reaches the whole schema (Alembic and the tests use this metadata)."""

from core import audit as _audit  # noqa: F401
from core import files as _files  # noqa: F401
from core import idempotency as _idempotency  # noqa: F401
from core import jobs as _jobs  # noqa: F401
from core import notifications as _notifications  # noqa: F401
from core.db import Base
from core.identity import models as _identity  # noqa: F401
from evaluations.assignments import models as _evaluation_assignments  # noqa: F401
from evaluations.jury import models as _evaluation_jury  # noqa: F401
from evaluations.results import models as _evaluation_results  # noqa: F401
from evaluations.rounds import models as _evaluation_rounds  # noqa: F401
from evaluations.rubrics import models as _evaluation_rubrics  # noqa: F401
from evaluations.sheets import models as _evaluation_sheets  # noqa: F401
from grants.applications import models as _applications  # noqa: F401
from grants.awards import models as _awards  # noqa: F401
from grants.contracts import models as _contracts  # noqa: F401
from grants.disbursements import models as _disbursements  # noqa: F401
from grants.programmes import models as _programmes  # noqa: F401
from incubator import models as _incubator  # noqa: F401
from reports import models as _reports  # noqa: F401

metadata = Base.metadata
