"""Config: TOML -> validated, fully resolved nested dict (the first stage of the data flow)."""

from ._load import DEFAULT_CONFIG_NAME as DEFAULT_CONFIG_NAME
from ._load import FAST_DECAY_RATE_TIMES_DT as FAST_DECAY_RATE_TIMES_DT
from ._load import WELL_MIXED_INERT_KEYS as WELL_MIXED_INERT_KEYS
from ._load import apply_override as apply_override
from ._load import apply_overrides as apply_overrides
from ._load import array_of_tables as array_of_tables
from ._load import as_toml as as_toml
from ._load import check_overrides as check_overrides
from ._load import coupling_rates_per_s as coupling_rates_per_s
from ._load import default_config_text as default_config_text
from ._load import largest_accurate_dt_s as largest_accurate_dt_s
from ._load import load_config as load_config
from ._load import lookup as lookup
from ._load import parse_toml as parse_toml
from ._load import read_toml_file as read_toml_file
from ._load import resolve as resolve
from ._load import resolve_noted as resolve_noted
from ._load import unresolved as unresolved
from ._load import without_filled_values as without_filled_values
from ._schema import ARRAY_SECTIONS as ARRAY_SECTIONS
from ._schema import SECTIONS as SECTIONS
from ._schema import key_units as key_units
from ._toml import dumps as dumps
