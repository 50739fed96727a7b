"""Apache Airflow provider that drives Databricks over its REST API."""

__version__ = "0.1.0"
