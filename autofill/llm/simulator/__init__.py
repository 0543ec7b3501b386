"""A local server that speaks the OpenAI and Anthropic wire protocols, with settable latency and
faults, so the official SDKs run unmodified where no provider is reachable. Every answer it
gives is marked as simulated."""

from autofill.llm.simulator.config import Fault, SimConfig
from autofill.llm.simulator.server import SimState, Simulator, build_app

__all__ = ["Fault", "SimConfig", "SimState", "Simulator", "build_app"]
