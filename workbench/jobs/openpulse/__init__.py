"""OpenQASM 3 + OpenPulse programs -> schedules: parsing, compile-time execution, device frames.

The job class is :class:`workbench.jobs.openpulse_job.OpenPulseJob`; the writer of programs is
:mod:`workbench.jobs.to_openpulse`. See docs/openpulse.md.
"""
