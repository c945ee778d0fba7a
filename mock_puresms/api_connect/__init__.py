"""The current PureSMS API (Divergent Connect, API.md section 9): a second HTTP surface
on the same façade as v1, so both APIs share one store, clock, scenario and accounts."""
