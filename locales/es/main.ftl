# Texto en español de atip. Cada mensaje de locales/en/main.ftl debe estar aquí.

site-title = atip
skip-to-content = Saltar al contenido principal
quick-exit = Salida rápida
quick-exit-hint = O pulse Esc tres veces
nav-label = Principal
nav-home = Inicio
nav-api = API
lang-switch = English

footer-hotline = Línea Nacional contra la Trata de Personas, las 24 horas, todos los días:
footer-call = llame al
footer-text = envíe un texto al
footer-emergency = Si corre peligro inmediato, llame al 911.
footer-credit = atip es software abierto para programas contra la trata. Datos de lugares: GeoNames (CC BY 4.0).

error-status = Estado:
error-request-id = Si pide ayuda, indique este identificador de solicitud:
error-home = Ir a la página de inicio
error-400-title = No se pudo entender la solicitud
error-400-text = Algo en la solicitud no era válido. Revíselo e inténtelo de nuevo.
error-403-title = No permitido
error-403-text = Su cuenta no puede abrir esta página. Pida acceso a su administrador si lo necesita.
error-404-title = Página no encontrada
error-404-text = No hay ninguna página en esta dirección. Puede haberse movido o el enlace puede estar mal.
error-405-title = No permitido de esta forma
error-405-text = Esta página no acepta ese tipo de solicitud.
error-413-title = Demasiado grande
error-413-text = Lo que envió es más grande de lo que atip acepta.
error-422-title = Revise lo que escribió
error-422-text = Parte de lo que escribió no se pudo aceptar. Corrija los campos marcados e inténtelo de nuevo.
error-500-title = Algo salió mal
error-500-text = Un error de nuestra parte nos impidió responder. Nada de lo que escribió quedó guardado a medias; inténtelo de nuevo en un momento.

home-title = Juntos contra la trata de personas
home-intro = atip apoya un programa contra la trata: la línea de ayuda 24/7, el directorio nacional de servicios, la gestión de casos de sobrevivientes, las cartas de certificación y elegibilidad, y las coaliciones de concientización.
home-help-label = Obtenga ayuda ahora
home-help-heading = ¿Necesita ayuda ahora?
home-help-text = Llame a la línea de ayuda al { $phone }, a cualquier hora, en español, inglés u otros 200 idiomas. Si corre peligro inmediato, llame al 911.
home-parts-heading = Qué hace atip
home-part-hotline = Una línea de ayuda 24/7 por teléfono, texto, chat y correo, con referencias y denuncias.
home-part-directory = Un directorio nacional verificado de organizaciones y personas, y una biblioteca de recursos.
home-part-cases = Gestión de casos de sobrevivientes en redes de proveedores de servicios.
home-part-letters = Cartas de certificación y elegibilidad que abren beneficios a víctimas extranjeras.
home-part-coalitions = Coaliciones Rescate y Restauración y subvenciones para la concientización.
home-status-heading = Esta instalación
home-organizations = Organizaciones participantes: { $count }.

api-docs-title = Referencia de la API
api-docs-intro = La API JSON de atip está en /api/v1. Esta página se genera a partir del mismo documento OpenAPI 3.1 que leen los programas.
api-docs-openapi = Descargar el documento OpenAPI
api-docs-parameters = Parámetros
api-docs-responses = Respuestas
api-docs-name = Nombre
api-docs-in = En
api-docs-required = Obligatorio
api-docs-description = Descripción
api-docs-yes = sí
api-docs-no = no
