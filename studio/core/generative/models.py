"""Keras models that train a GAN, a VAE or an autoencoder from their two functional sub-models.

Each class keeps its parts as attributes (``generator``/``discriminator`` or
``encoder``/``decoder``), trains them with its own ``train_step`` and is registered under the
``studio`` package, so a saved run loads again with ``safe_mode=True``. Images are in [0, 1].

The training steps are written once for every Keras backend: each step reads and writes the
model's state through a ``_State`` (variable -> value, entered as a ``keras.StatelessScope``),
takes gradients through the backend adapter (``studio.core.backends``) and applies optimizers
inside the scope. On JAX the trainer hands ``train_step`` that state and takes it back; on
TensorFlow and PyTorch ``train_step`` reads it from the variables and assigns it back.

Imported only inside functions that train or load generative runs (it imports Keras).
"""

from __future__ import annotations

import keras

from studio.core.backends import adapter
from studio.core.graph import custom_layers  # noqa: F401  (registers Sampling for loading)

ops = keras.ops


class _State:
    """The variables' values while a training step runs.

    Stateless (JAX): values are held here and every read goes through a full ``StatelessScope``.
    Live (TensorFlow, PyTorch: ``values`` None): the variables hold the values; scopes map only
    what is overridden, and what is written inside them is assigned back to the variables.
    """

    def __init__(self, variables, values=None):
        self.variables = list(variables)
        self.live = values is None
        self.values = {} if self.live else {id(v): value for v, value in zip(self.variables, values)}

    def get(self, variables):
        return [v.value if self.live else self.values[id(v)] for v in variables]

    def scope(self, overrides=()):
        """A StatelessScope reading these values (``overrides``: (variable, value) pairs)."""
        mapping = dict(self.values)
        mapping.update((id(v), value) for v, value in overrides)
        return keras.StatelessScope(state_mapping=[(v, mapping[id(v)]) for v in self.variables
                                                   if id(v) in mapping])

    def _store(self, variable, value):
        if value is None:
            return
        if self.live:
            variable.assign(value)
        else:
            self.values[id(variable)] = value

    def absorb(self, scope, skip=()):
        """Keep the values written inside ``scope`` (except those of ``skip``)."""
        skipped = {id(v) for v in skip}
        for v in self.variables:
            if id(v) not in skipped:
                self._store(v, scope.get_current_value(v))

    def gradients(self, loss_fn, variables):
        """``(loss, aux, grads)`` of ``loss_fn() -> (loss, aux)`` w.r.t. ``variables``; state
        updates made by the forward pass (batch-norm statistics, random seeds) are kept."""
        variables = list(variables)

        def run(values):
            with self.scope(zip(variables, values)) as scope:
                loss, aux = loss_fn()
            return loss, (aux, [scope.get_current_value(v) for v in self.variables])

        (loss, (aux, updated)), (grads,) = adapter().value_and_grad(
            run, [self.get(variables)], has_aux=True)
        skipped = {id(v) for v in variables}
        for v, value in zip(self.variables, updated):
            if id(v) not in skipped:
                self._store(v, value)
        return loss, aux, grads

    def apply(self, optimizer, grads, variables):
        if self.live:
            optimizer.apply(grads, variables)
            return
        with self.scope() as scope:
            optimizer.apply(grads, variables)
        self.absorb(scope)


class _OptimizerState:
    """Carries a second optimizer's variables in the model's metrics, so the JAX trainer passes
    them to ``train_step`` and stores them back like the first optimizer's (not saved: not a
    Keras object; the optimizer itself is)."""

    name = "second_optimizer_state"

    def __init__(self):
        self.variables = []

    def reset_state(self):
        pass

    def result(self):
        return {}


def _mean_trackers(*names: str) -> list:
    return [keras.metrics.Mean(name=name) for name in names]


def _reconstruction_loss(x, reconstruction):
    """Binary cross-entropy summed over the pixels of each image, averaged over the batch."""
    per_pixel = keras.losses.binary_crossentropy(x[..., None], reconstruction[..., None])
    return ops.mean(ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=1))


class _TwoParts(keras.Model):
    """Shared plumbing: two sub-models, mean trackers reset every epoch, (de)serialization."""

    PARTS: tuple[str, str] = ("", "")

    def __init__(self, first, second, **kwargs):
        super().__init__(**kwargs)
        setattr(self, self.PARTS[0], first)
        setattr(self, self.PARTS[1], second)
        self.built = True

    @property
    def metrics(self):
        return self.trackers + self.carriers

    carriers: list = []

    def train_step(self, *args):
        """One step on any backend (JAX: ``(state, data) -> (logs, state)``; others: ``data -> logs``)."""
        return self._run(self._step, args, [self.trainable_variables, self.non_trainable_variables,
                                            self.optimizer.variables, self.metrics_variables])

    def test_step(self, *args):
        return self._run(self._test, args, [self.trainable_variables, self.non_trainable_variables,
                                            self.metrics_variables])

    def _test(self, state, data):
        with state.scope() as scope:
            logs = self._report(**self._test_values(data))
        state.absorb(scope)
        return logs

    def _run(self, step, args, groups):
        variables = [v for g in groups for v in g]
        if keras.backend.backend() != "jax":
            return step(_State(variables), args[0])
        state_in, data = args
        state = _State(variables, [value for g in state_in for value in g])
        logs = step(state, data)
        return logs, tuple(state.get(g) for g in groups)

    def _report(self, **values):
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def get_config(self):
        config = super().get_config()
        for part in self.PARTS:
            config[part] = keras.saving.serialize_keras_object(getattr(self, part))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        parts = [keras.saving.deserialize_keras_object(config.pop(part)) for part in cls.PARTS]
        return cls(*parts, **config)


@keras.saving.register_keras_serializable(package="studio")
class GAN(_TwoParts):
    """Generator vs discriminator, one discriminator then one generator update per batch.

    ``conditional``: both parts take ``[x, label]`` as inputs; ``from_logits``: whether the
    discriminator outputs raw scores (else probabilities). ``compile`` takes both optimizers.
    """

    PARTS = ("generator", "discriminator")

    def __init__(self, generator, discriminator, latent_dim, conditional=False, from_logits=True,
                 num_classes=0, seed=0, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.latent_dim, self.conditional, self.from_logits = latent_dim, conditional, from_logits
        self.num_classes, self.seed = num_classes, seed
        self.noise = keras.random.SeedGenerator(seed)
        self.trackers = _mean_trackers("d_loss", "g_loss", "d_acc_real", "d_acc_fake")

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """``d_optimizer`` is also ``self.optimizer`` (the one the engine reports the rate of)."""
        super().compile(optimizer=d_optimizer, **kwargs)
        self.g_optimizer = g_optimizer
        self.bce = keras.losses.BinaryCrossentropy(from_logits=self.from_logits)
        if d_optimizer is not None:
            d_optimizer.build(self.discriminator.trainable_variables)
            g_optimizer.build(self.generator.trainable_variables)
            carrier = _OptimizerState()
            carrier.variables = list(g_optimizer.variables)
            self.carriers = [carrier]

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _with_label(self, x, labels):
        return [x, labels] if self.conditional else x

    def _step(self, state, data):
        real, labels = data[0], ops.reshape(ops.cast(data[1], "int32"), (-1, 1))
        batch = ops.shape(real)[0]
        threshold = 0.0 if self.from_logits else 0.5

        def d_loss_fn():
            z = keras.random.normal((batch, self.latent_dim), seed=self.noise)
            fake = self.generator(self._with_label(z, labels), training=True)
            real_score = self.discriminator(self._with_label(real, labels), training=True)
            fake_score = self.discriminator(self._with_label(fake, labels), training=True)
            # One-sided label smoothing (0.9 for real) keeps the discriminator from overpowering.
            loss = (self.bce(ops.full_like(real_score, 0.9), real_score)
                    + self.bce(ops.zeros_like(fake_score), fake_score))
            return loss, (real_score, fake_score)

        weights = self.discriminator.trainable_variables
        d_loss, (real_score, fake_score), grads = state.gradients(d_loss_fn, weights)
        state.apply(self.optimizer, grads, weights)

        def g_loss_fn():
            z = keras.random.normal((batch, self.latent_dim), seed=self.noise)
            fooled = self.discriminator(
                self._with_label(self.generator(self._with_label(z, labels), training=True), labels),
                training=True)
            return self.bce(ops.ones_like(fooled), fooled), ()

        weights = self.generator.trainable_variables
        g_loss, _, grads = state.gradients(g_loss_fn, weights)
        state.apply(self.g_optimizer, grads, weights)
        with state.scope() as scope:
            logs = self._report(
                d_loss=d_loss, g_loss=g_loss,
                d_acc_real=ops.mean(ops.cast(real_score > threshold, "float32")),
                d_acc_fake=ops.mean(ops.cast(fake_score <= threshold, "float32")))
        state.absorb(scope)
        return logs

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "conditional": self.conditional,
                "from_logits": self.from_logits, "num_classes": self.num_classes, "seed": self.seed}


@keras.saving.register_keras_serializable(package="studio")
class VAE(_TwoParts):
    """Encoder ``x -> [z_mean, z_log_var, z]`` and decoder ``z -> x``; loss = reconstruction + KL."""

    PARTS = ("encoder", "decoder")

    def __init__(self, encoder, decoder, kl_weight=1.0, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.kl_weight = kl_weight
        self.trackers = _mean_trackers("loss", "reconstruction_loss", "kl_loss")

    def call(self, inputs, training=False):
        z_mean, _, z = self.encoder(inputs, training=training)
        return self.decoder(z if training else z_mean, training=training)

    def _loss_terms(self, x, training):
        z_mean, z_log_var, z = self.encoder(x, training=training)
        reconstruction = _reconstruction_loss(x, self.decoder(z, training=training))
        kl = -0.5 * ops.mean(ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1))
        return reconstruction, kl, reconstruction + self.kl_weight * kl

    def _step(self, state, data):
        def loss_fn():
            reconstruction, kl, loss = self._loss_terms(data[0], training=True)
            return loss, (reconstruction, kl)

        loss, (reconstruction, kl), grads = state.gradients(loss_fn, self.trainable_variables)
        state.apply(self.optimizer, grads, self.trainable_variables)
        with state.scope() as scope:
            logs = self._report(loss=loss, reconstruction_loss=reconstruction, kl_loss=kl)
        state.absorb(scope)
        return logs

    def _test_values(self, data):
        reconstruction, kl, loss = self._loss_terms(data[0], training=False)
        return {"loss": loss, "reconstruction_loss": reconstruction, "kl_loss": kl}

    def get_config(self):
        return {**super().get_config(), "kl_weight": self.kl_weight}


@keras.saving.register_keras_serializable(package="studio")
class AutoEncoder(_TwoParts):
    """Encoder ``x -> code`` and decoder ``code -> x``, trained to reproduce the input."""

    PARTS = ("encoder", "decoder")

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.trackers = _mean_trackers("loss", "reconstruction_loss")

    def call(self, inputs, training=False):
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def _reconstruction(self, x, training):
        return _reconstruction_loss(x, self(x, training=training))

    def _step(self, state, data):
        loss, _, grads = state.gradients(lambda: (self._reconstruction(data[0], training=True), ()),
                                         self.trainable_variables)
        state.apply(self.optimizer, grads, self.trainable_variables)
        with state.scope() as scope:
            logs = self._report(loss=loss, reconstruction_loss=loss)
        state.absorb(scope)
        return logs

    def _test_values(self, data):
        loss = self._reconstruction(data[0], training=False)
        return {"loss": loss, "reconstruction_loss": loss}


MODEL_CLASSES = {"gan": GAN, "vae": VAE, "autoencoder": AutoEncoder}
