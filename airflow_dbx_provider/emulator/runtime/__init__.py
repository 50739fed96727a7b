"""The notebook side of the emulator: what runs inside a task's subprocess (runner, dbutils)."""
